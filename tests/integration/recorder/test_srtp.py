"""SRTP between Janus and the recorder (issue 13): Janus' forwarders to the recorder send SRTP
(``apps.<appId>.janus.forwardSrtp``), and what the recorder records is what the publishers sent.

Real Janus, recorder process, aiortc publishers, versitygw; the bucket's files decoded with PyAV.
What travels on the wire is read with a raw socket inside the test's own network namespace
(``hack/netns-run``) and compared with a plain forwarder of the same publisher that the test
asks Janus for: the same packets (by sequence number), 10 bytes longer (the authentication
tag), with a different payload. Plain RTP forged into the recorder's port, continuing the real
stream's sequence numbers, timestamps and SSRC, never shows in the recording. (With
``forwardSrtp: Never`` the last test fails on both counts: same-length packets, and a forged
frame in the recording; tried by hand when it was written.)
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import APP_ID, CallbackSink, RecorderProcess, start_recorder
from tests.integration.recorder.checks import (
    close_to,
    colour_at,
    download,
    mix_config,
    probe_point,
    start_recording,
    stop_recording,
    tone_strength,
    wait_status,
)
from tests.media_files import decode_audio, decode_video, stream_kinds

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.publisher import color_for, tone_for
from cloudrec_devenv.s3 import S3Server
from cloudrec_recorder.media.config import VideoLayout
from cloudrec_recorder.media.layout import compute_layout

pytestmark = [pytest.mark.media, pytest.mark.timeout(180)]

RECORDER_UID = "900131"
MEDIA_ADDRESS = "10.231.0.1"
"""The namespace's veth address (hack/netns-run): not loopback, so ``Auto`` means SRTP."""
TAG_BYTES = 10
FORGED = (255, 255, 255)
"""The forger's picture: white, no publisher's colour."""


def srtp_recorder(
    workdir: Path, janus: Janus, sink: CallbackSink, s3: S3Server, **janus_settings: Any
) -> RecorderProcess:
    bucket = "srtp-" + secrets.token_hex(4)
    s3.create_bucket(bucket)
    settings = {"wsUrl": janus.ws_url, **janus_settings}
    return start_recorder(workdir, janus, sink, s3, bucket, apps={APP_ID: {"janus": settings}})


@pytest.fixture
def always(
    tmp_path: Path, janus: Janus, callback_sink: CallbackSink, s3_server: S3Server
) -> Iterator[RecorderProcess]:
    """A recorder that forwards over loopback, with ``forwardSrtp: Always``."""
    recorder = srtp_recorder(
        tmp_path / "recorder", janus, callback_sink, s3_server, forwardSrtp="Always"
    )
    try:
        yield recorder
    finally:
        recorder.process.stop()


async def srtp_forwarders(janus: Janus, room: str, publishers: int) -> list[dict[str, Any]]:
    """The recorder's forwarders once every publisher has its audio and video one."""
    for _ in range(100):
        listed = await asyncio.to_thread(janus.list_forwarders, room)
        forwarders = [f for group in listed.values() for f in group]
        if len(listed) == publishers and len(forwarders) == 2 * publishers:
            return forwarders
        await asyncio.sleep(0.1)
    raise AssertionError(f"the recorder's forwarders never all appeared: {listed}")


async def test_a_mix_recorded_over_srtp_shows_each_publishers_colour_and_holds_their_tones(
    always: RecorderProcess, janus: Janus, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    users = ["1001", "1002"]
    transcoding = {"width": 320, "height": 240, "fps": 15, "bitrate": 500, "mixedVideoLayout": 1}
    config = mix_config(transcodingConfig=transcoding, audioProfile=1)
    async with always.client() as client:
        rec = await start_recording(client, always, room, RECORDER_UID, config)
        async with publish(room, users, width=160, height=120):
            await wait_status(client, always, rec, 5)
            forwarders = await srtp_forwarders(janus, room, len(users))
            await asyncio.sleep(5)
            stopped = await stop_recording(client, always, rec)
    assert all(f.get("srtp") is True for f in forwarders), forwarders
    [playlist] = download(always, [stopped["serverResponse"]["fileList"]], tmp_path)
    assert stream_kinds(playlist) == ["audio", "video"]
    frame = decode_video(playlist).frames[-15][1]
    regions = compute_layout(VideoLayout.BEST_FIT, users, 320, 240)
    for region in regions:
        expected = color_for(users.index(region.uid))
        assert close_to(colour_at(frame, *probe_point(region, regions)), expected)
    samples, rate, _ = decode_audio(playlist)
    tail = samples[-3 * rate :]
    assert tone_strength(tail, rate, tone_for(0)) > 0.2
    assert tone_strength(tail, rate, tone_for(1)) > 0.2


async def test_individual_recordings_over_srtp_hold_each_uids_picture_and_tone(
    always: RecorderProcess, janus: Janus, room: str, publish: PublishFactory, tmp_path: Path
) -> None:
    users = ["1001", "1002"]
    config = {"channelType": 0, "streamTypes": 2, "maxIdleTime": 30, "subscribeUidGroup": 0}
    async with always.client() as client:
        rec = await start_recording(client, always, room, RECORDER_UID, config, mode="individual")
        async with publish(room, users, width=160, height=120):
            await wait_status(client, always, rec, 5)
            forwarders = await srtp_forwarders(janus, room, len(users))
            await asyncio.sleep(5)
            stopped = await stop_recording(client, always, rec)
    assert all(f.get("srtp") is True for f in forwarders), forwarders
    files = {
        (f["uid"], f["trackType"]): f["fileName"] for f in stopped["serverResponse"]["fileList"]
    }
    for index, uid in enumerate(users):
        video, audio = download(always, [files[(uid, "video")], files[(uid, "audio")]], tmp_path)
        assert close_to(colour_at(decode_video(video).frames[-1][1], 20, 20), color_for(index))
        samples, rate, _ = decode_audio(audio)
        assert tone_strength(samples[-2 * rate :], rate, tone_for(index)) > 0.5


class Sniffer:
    """Every UDP datagram this namespace delivers to ``ports`` (a raw socket; the test's own
    network namespace lets it open one), by destination port."""

    def __init__(self) -> None:
        self.ports: set[int] = set()
        self.seen: dict[int, list[bytes]] = {}
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                packet = self._socket.recv(65535)
            except TimeoutError:
                continue
            header = (packet[0] & 0x0F) * 4
            (port,) = struct.unpack("!H", packet[header + 2 : header + 4])
            if port in self.ports:
                self.seen.setdefault(port, []).append(packet[header + 8 :])

    @contextmanager
    def running(self) -> Iterator[Sniffer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(2)
            self._socket.close()


def sequence(packet: bytes) -> int:
    return int(struct.unpack("!H", packet[2:4])[0])


def forged_keyframes(ssrc: int, seq: int, timestamp: int, count: int) -> list[list[bytes]]:
    """``count`` white VP8 keyframes as plain RTP continuing a stream (payload type 96)."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = 160, 120, "yuv420p"
    codec.time_base = Fraction(1, 15)
    codec.options = {"deadline": "realtime", "lag-in-frames": "0"}
    frames = []
    for n in range(count):
        picture = np.full((120, 160, 3), FORGED, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        frame.pict_type = av.video.frame.PictureType.I
        data = b"".join(bytes(p) for p in codec.encode(frame))
        chunks = [data[i : i + 1000] for i in range(0, len(data), 1000)]
        packets = []
        for i, chunk in enumerate(chunks):
            marker = 0x80 if i == len(chunks) - 1 else 0
            header = struct.pack(
                "!BBHII", 0x80, marker | 96, (seq + 1) & 0xFFFF, timestamp + 6000 * (n + 1), ssrc
            )
            seq += 1
            packets.append(header + bytes([0x10 if i == 0 else 0x00]) + chunk)
        frames.append(packets)
    return frames


async def test_off_loopback_the_forwarded_media_is_srtp_and_forged_plain_rtp_never_shows(
    tmp_path: Path,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
) -> None:
    # forwardSrtp left at its default (Auto): the media address is not loopback
    recorder = srtp_recorder(
        tmp_path / "recorder", janus, callback_sink, s3_server, forwardHost=MEDIA_ADDRESS
    )
    control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    control.bind(("127.0.0.1", 0))
    control.settimeout(0.2)
    plain: dict[int, bytes] = {}
    sniffer = Sniffer()
    config = {"channelType": 0, "streamTypes": 2, "maxIdleTime": 30, "subscribeUidGroup": 0}
    try:
        async with (
            recorder.client() as client,
            publish(room, "1001", width=160, height=120) as publisher,
        ):
            with sniffer.running():
                rec = await start_recording(
                    client, recorder, room, RECORDER_UID, config, mode="individual"
                )
                await wait_status(client, recorder, rec, 5)
                [video] = [f for f in await srtp_forwarders(janus, room, 1) if f["type"] == "video"]
                sniffer.ports.add(int(video["port"]))
                # the same publisher's video, plain, to the test's own socket
                await asyncio.to_thread(
                    janus.rtp_forward,
                    room,
                    "1001",
                    "127.0.0.1",
                    [{"mid": publisher.mid("video"), "port": control.getsockname()[1], "pt": 96}],
                )
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline:
                    try:
                        packet = await asyncio.to_thread(control.recv, 65535)
                    except TimeoutError:
                        continue
                    plain[sequence(packet)] = packet
                # a forger on the path: plain RTP continuing the stream, into the recorder's port
                last = sniffer.seen[int(video["port"])][-1]
                ssrc, seq = struct.unpack("!I", last[8:12])[0], sequence(last)
                (timestamp,) = struct.unpack("!I", last[4:8])
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as forger:
                    for frame in forged_keyframes(ssrc, seq, timestamp, 30):
                        for packet in frame:
                            forger.sendto(packet, (MEDIA_ADDRESS, int(video["port"])))
                        await asyncio.sleep(1 / 15)
                await asyncio.sleep(2)
                stopped = await stop_recording(client, recorder, rec)
    finally:
        control.close()
        recorder.process.stop()
    assert video.get("srtp") is True, video
    forwarded = {sequence(p): p for p in sniffer.seen[int(video["port"])] if p[1] & 0x7F == 96}
    common = sorted(set(forwarded) & set(plain))
    assert len(common) > 30, (len(forwarded), len(plain))
    for seq in common:
        srtp, clear = forwarded[seq], plain[seq]
        assert len(srtp) == len(clear) + TAG_BYTES  # the same packet, authenticated
        assert srtp[:12] == clear[:12]  # RTP header: in clear, as SRTP keeps it
        assert srtp[12:-TAG_BYTES] != clear[12:]  # the payload: encrypted
    files = {
        (f["uid"], f["trackType"]): f["fileName"] for f in stopped["serverResponse"]["fileList"]
    }
    [video_file] = download(recorder, [files[("1001", "video")]], tmp_path)
    colours = [colour_at(frame, 20, 20) for _, frame in decode_video(video_file).frames]
    assert len(colours) > 30
    assert not any(close_to(c, FORGED) for c in colours), "a forged frame was recorded"
    assert close_to(colours[-1], color_for(0))
    # the keys went to Janus and libavformat only: no file of the recorder's (its log, config,
    # spool, metadata) holds an SDP's crypto line or a request's key
    for path in (tmp_path / "recorder").rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            assert b"a=crypto" not in text and b"srtp_crypto" not in text, path
