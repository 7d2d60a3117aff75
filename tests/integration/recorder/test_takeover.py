"""Unplanned take-over (issue 14): a replica killed mid-recording, its recording goes on on a peer.

Real recorder processes (two replicas that beat to each other), real Janus, real versitygw. A
mix recording of two publishers runs on replica ``ra``; ``ra`` gets SIGKILL (no drain). Within
10 s ``rb`` records under the same sid with the service's ``bak0_`` names and sends event 12
naming both replicas and the media time missing. ``ra`` comes back on its volume: it delivers
what it had not sent, says nothing of a recording that goes on elsewhere (no event 11), and
forwards requests for the sid to ``rb``; ``stop`` through ``ra`` stops it on ``rb``. The
bucket then holds both parts, each decoded with both publishers' colours, and the gap event
12 reported is the step the decoded frame times show. An individual recording goes the same
way per uid and track (``bak0_`` playlists beside the lost replica's); a paused one is taken
over paused and resumed on the taker.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import CallbackSink, RecorderProcess, running_replicas
from tests.integration.recorder.checks import (
    hold_recording,
    mix_config,
    query_status,
    start_recording,
    stop_recording,
    tone_strength,
    wait_status,
)
from tests.integration.recorder.handover_checks import HandedOverMedia, shows_colour
from tests.integration.recorder.takeover_checks import (
    AAC_FRAME_SECONDS,
    read_taken_over,
    read_taken_over_track,
    verified_manifest,
)
from tests.integration.recorder.test_handover import FPS, TRANSCODING, wait_exit

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.publisher import color_for, tone_for
from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol.manifest import (
    TimelineKind,
    is_manifest_name,
    manifest_name,
    part_manifest_name,
    unlisted_parts,
)

pytestmark = [pytest.mark.media, pytest.mark.timeout(300)]

TAKEOVER_WITHIN = 10.0
GAP_TOLERANCE = 0.25
"""Reported vs decoded gap: the taker's first frame is the one due when its first media came
(±1 frame), the lost part's end is its last complete segment's end as its last beat said
(beats go out at every completed segment; a death in the few ms between a segment's rename
and its beat is the one miss), frame times are rounded to the 90 kHz clock and the ms of the
names: 2-3 frame intervals at 15 fps."""


@pytest.fixture
def replicas(
    tmp_path: Path, janus: Janus, callback_sink: CallbackSink, s3_server: S3Server
) -> Iterator[list[RecorderProcess]]:
    with running_replicas(
        tmp_path,
        janus,
        callback_sink,
        s3_server,
        "take",
        storageEncryptionKey=secrets.token_urlsafe(24),
    ) as running:
        yield running


async def test_a_killed_replicas_mix_recording_is_taken_over_under_the_same_sid_within_ten_seconds(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    ra, rb = replicas
    async with (
        ra.client() as on_a,
        rb.client() as on_b,
        publish(room, ["1001", "1002"], width=160, height=120),
    ):
        rec = await start_recording(
            on_a, ra, room, "900150", mix_config(transcodingConfig=TRANSCODING)
        )
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(5)
        assert ra.process.pid is not None
        killed = time.monotonic()
        os.killpg(ra.process.pid, signal.SIGKILL)
        failover = await asyncio.to_thread(callback_sink.wait_for, rec.sid, 12, 30.0)
        took = failover.received_at - killed
        await wait_exit(ra)
        ra.process.stop()
        assert await query_status(on_b, rb, rec) == 5  # the resource id names ra: held by rb
        await asyncio.sleep(3)
        await asyncio.to_thread(ra.process.start)  # its volume comes back
        await asyncio.to_thread(ra.process.wait_http, f"{ra.base_url}/readyz", timeout=60)
        await asyncio.sleep(4)
        assert await query_status(on_a, ra, rec) == 5  # through ra, forwarded to rb
        stopped = await stop_recording(on_a, ra, rec)
    assert took <= TAKEOVER_WITHIN, f"taken over {took:.1f}s after the kill"
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    details = failover.payload["details"]
    assert (details["fromReplica"], details["toReplica"]) == ("ra", "rb")
    assert str(details["newUid"]) != rec.uid
    gap = details["gapMs"] / 1000
    # ra's restart delivered its part and did not end the recording (rb's stop did, once)
    assert callback_sink.event_types(rec.sid).count(11) == 1
    assert "Recovered recording delivered sid=" + rec.sid in ra.log_path.read_text()
    keys = {k for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    after = {k.rsplit("/", 1)[1] for k in keys if k.rsplit("/", 1)[1].startswith("bak")}
    assert after and all(n.startswith(f"bak0_{rec.sid}_") for n in after), sorted(keys)
    media = read_taken_over(s3_server, ra.bucket, rec.sid, room, tmp_path)
    assert not set(media.first_segments) & set(media.second_segments)
    assert all(n.startswith("bak0_") for n in media.second_segments)
    for part in (media.first, media.second):
        assert part.times
        for colour in (color_for(0), color_for(1)):
            assert shows_colour(part.frames, colour), f"{colour} missing"
    decoded = media.missing_seconds(FPS)
    assert 0 < gap <= TAKEOVER_WITHIN
    assert abs(decoded - gap) <= GAP_TOLERANCE, (
        f"reported {gap:.3f}s, decoded {decoded:.3f}s {media.first.times[:2]} "
        f"{media.first.times[-2:]} {media.second.times[:2]} {media.second.times[-2:]} "
        f"{media.first_segments} {media.second_segments}"
    )
    # both parts' manifests are in the bucket, each under its own name and verifying its own
    # part; the recording's name holds the taker's (the operator reads that one)
    secret = callback_sink.secret
    taker = verified_manifest(s3_server, ra.bucket, manifest_name(rec.sid, room), secret)
    lost = verified_manifest(s3_server, ra.bucket, part_manifest_name(rec.sid, room, ""), secret)
    taker_names = {o.key.rsplit("/", 1)[1] for o in taker.objects}
    lost_names = {o.key.rsplit("/", 1)[1] for o in lost.objects}
    assert set(media.second_segments) <= taker_names
    assert all(n.startswith(f"bak0_{rec.sid}_") for n in taker_names), sorted(taker_names)
    assert set(media.first_segments) <= lost_names
    assert not any(n.startswith("bak") for n in lost_names), sorted(lost_names)
    assert unlisted_parts(taker) is not None
    assert TimelineKind.RESTARTED in {e.kind for e in lost.timeline}
    manifests = {k for k in keys if is_manifest_name(k)}
    assert len(manifests) == 2, sorted(manifests)
    listed = {o.key for o in (*taker.objects, *lost.objects)}
    assert listed == keys - manifests, sorted(listed ^ (keys - manifests))


async def test_a_stopped_replica_that_comes_back_gives_up_the_recording_its_peer_took_over(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """Split brain: ``ra`` is paused (SIGSTOP), not dead; ``rb`` takes over; ``ra`` resumes
    (SIGCONT). ``ra`` must stop writing the sid at once and say nothing (rb holds it): its
    part ends where it stood still, before rb's first frame, and requests through it reach
    rb."""
    ra, rb = replicas
    async with (
        ra.client() as on_a,
        publish(room, ["1001", "1002"], width=160, height=120),
    ):
        rec = await start_recording(
            on_a, ra, room, "900151", mix_config(transcodingConfig=TRANSCODING)
        )
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(4)
        assert ra.process.pid is not None
        os.killpg(ra.process.pid, signal.SIGSTOP)
        try:
            await asyncio.to_thread(callback_sink.wait_for, rec.sid, 12, 30.0)
            await asyncio.sleep(3)
        finally:
            os.killpg(ra.process.pid, signal.SIGCONT)
        await asyncio.sleep(4)
        assert await query_status(on_a, ra, rec) == 5  # forwarded: ra gave it up
        stopped = await stop_recording(on_a, ra, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    assert f"Fenced sid={rec.sid}: replica rb took it over" in ra.log_path.read_text()
    assert f"Took over sid={rec.sid} from=ra" in rb.log_path.read_text()
    events = callback_sink.event_types(rec.sid)
    assert events.count(11) == 1 and events.count(12) == 1, events
    await asyncio.sleep(3)  # ra's own part finishes its upload after giving up
    media = read_taken_over(s3_server, ra.bucket, rec.sid, room, tmp_path)
    assert media.missing_seconds(FPS) > 0, "ra went on writing after rb took over"


KEYFRAME_WAIT = 0.5
"""An individual recording's reported gap runs from the earliest end among the lost
replica's outputs to the taker's first media; each output's decoded gap from its own end to
its own first frame on the taker. A re-encoded output (the audio here) begins at the frame
due at the first media, as a mix does (``GAP_TOLERANCE``); video stored as sent begins at
the first keyframe the taker receives, which it asks the publisher for when it subscribes
(one round trip and the encoder's next frame on this machine; 0.5 s bounds it with room for
a loaded machine). So the largest decoded gap lies between the reported one less
``GAP_TOLERANCE`` and the reported one plus ``GAP_TOLERANCE`` and that wait."""


def heard(media: HandedOverMedia, hz: float) -> bool:
    samples = [s for part in media.parts for s in part.samples][-int(2 / AAC_FRAME_SECONDS) :]
    return tone_strength(np.concatenate(samples).astype(np.float32), 48_000, hz) > 0.2


async def test_a_killed_replicas_individual_recording_goes_on_per_uid_under_bak_names(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """streamMode default: each uid's VP8 stored as sent (WebM), its audio re-encoded. ``rb``
    goes on with every uid's audio and video on their own clocks under ``bak0_`` names; ``ra``
    comes back and delivers its part; ``stop`` through ``rb``."""
    ra, rb = replicas
    uids = ["1001", "1002"]
    async with (
        ra.client() as on_a,
        rb.client() as on_b,
        publish(room, uids, width=160, height=120, fps=FPS),
    ):
        rec = await start_recording(on_a, ra, room, "900152", mix_config(), mode="individual")
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(5)
        assert ra.process.pid is not None
        killed = time.monotonic()
        os.killpg(ra.process.pid, signal.SIGKILL)
        failover = await asyncio.to_thread(callback_sink.wait_for, rec.sid, 12, 30.0)
        took = failover.received_at - killed
        await wait_exit(ra)
        ra.process.stop()
        await asyncio.sleep(3)
        await asyncio.to_thread(ra.process.start)  # its volume comes back: its part delivered
        await asyncio.to_thread(ra.process.wait_http, f"{ra.base_url}/readyz", timeout=60)
        await asyncio.sleep(4)
        assert await query_status(on_b, rb, rec) == 5
        stopped = await stop_recording(on_b, rb, rec)
    assert took <= TAKEOVER_WITHIN, f"taken over {took:.1f}s after the kill"
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    details = failover.payload["details"]
    assert (details["fromReplica"], details["toReplica"]) == ("ra", "rb")
    gap = details["gapMs"] / 1000
    assert callback_sink.event_types(rec.sid).count(11) == 1
    keys = {k.rsplit("/", 1)[1] for k in s3_server.object_keys(ra.bucket) if rec.sid in k}
    after = {k for k in keys if k.startswith("bak")}
    assert after and all(n.startswith(f"bak0_{rec.sid}_") for n in after), sorted(keys)
    missing = {}
    for index, uid in enumerate(uids):
        video = read_taken_over_track(s3_server, ra.bucket, rec.sid, room, uid, "video", tmp_path)
        audio = read_taken_over_track(s3_server, ra.bucket, rec.sid, room, uid, "audio", tmp_path)
        for part in (video.first, video.second, audio.first, audio.second):
            assert part.times and part.discontinuities == 0, part.text
        for part in (video.first, video.second):
            assert all(name.endswith(".webm") for name in part.segments), part.segments
            frames = [f for p in part.parts for f in p.frames]
            assert shows_colour(frames, color_for(index)), f"{uid} missing in {part.playlist_key}"
        for part in (audio.first, audio.second):
            assert heard(part, tone_for(index)), f"{uid}'s tone missing in {part.playlist_key}"
        missing[f"{uid} video"] = video.missing_seconds(1 / FPS)
        missing[f"{uid} audio"] = audio.missing_seconds(AAC_FRAME_SECONDS)
    assert 0 < gap <= TAKEOVER_WITHIN
    worst = max(missing.values())
    assert gap - GAP_TOLERANCE <= worst <= gap + GAP_TOLERANCE + KEYFRAME_WAIT, (gap, missing)


PAUSE_GAP_MS = 250
"""A recording paused when its replica dies misses nothing after its pause: the lost
replica wrote everything up to the pause before it died (its last segment ends there, one
frame's rounding, 67 ms at 15 fps, aside); 250 ms leaves room for a beat that left between
the pause and that segment's write."""


async def test_a_paused_recording_is_taken_over_paused_and_resumes_on_the_taker(
    replicas: list[RecorderProcess],
    callback_sink: CallbackSink,
    s3_server: S3Server,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    """``ra`` dies while the recording is paused: ``rb`` takes it over paused (event 12 at
    once, no media missing), records nothing until ``update`` with ``onhold: false``
    (through the old resource id) resumes it, and then goes on in ``bak0_`` files."""
    ra, rb = replicas
    async with (
        ra.client() as on_a,
        rb.client() as on_b,
        publish(room, ["1001", "1002"], width=160, height=120),
    ):
        rec = await start_recording(
            on_a, ra, room, "900153", mix_config(transcodingConfig=TRANSCODING)
        )
        await wait_status(on_a, ra, rec, 5)
        await asyncio.sleep(4)
        await hold_recording(on_a, ra, rec, True)
        paused = time.monotonic()
        await asyncio.sleep(2)  # the pause's last segment is written, a beat tells it
        assert ra.process.pid is not None
        os.killpg(ra.process.pid, signal.SIGKILL)
        failover = await asyncio.to_thread(callback_sink.wait_for, rec.sid, 12, 30.0)
        await wait_exit(ra)
        ra.process.stop()
        await asyncio.sleep(4)
        taken_paused = {k for k in s3_server.object_keys(ra.bucket) if "bak0_" in k}
        resumed = time.monotonic()
        await hold_recording(on_b, rb, rec, False)
        await asyncio.sleep(5)
        stopped = await stop_recording(on_b, rb, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    assert not taken_paused, sorted(taken_paused)
    details = failover.payload["details"]
    assert (details["fromReplica"], details["toReplica"]) == ("ra", "rb")
    assert 0 <= details["gapMs"] <= PAUSE_GAP_MS, details
    assert f"Took over sid={rec.sid} from=ra" in rb.log_path.read_text()
    media = read_taken_over(s3_server, ra.bucket, rec.sid, room, tmp_path)
    for colour in (color_for(0), color_for(1)):
        assert shows_colour(media.second.frames, colour), f"{colour} missing after the resume"
    # Frame times go on from the lost replica's clock: the step spans the pause, nothing in it.
    assert media.missing_seconds(FPS) >= resumed - paused - GAP_TOLERANCE
