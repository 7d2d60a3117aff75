"""Background pictures of a mix (protocol.md §3.2.2): served by a local HTTP server, fetched by
the real recorder, and found in the HLS decoded from the bucket.

The recorder fetches pictures only from the hosts its ``backgroundImages.allowedHosts`` setting
names, and only from a non-public address inside ``backgroundImages.allowedNetworks``; these
tests run a recorder that allows ``127.0.0.1`` (host and network) and ``127.0.0.2`` (host
only: its address stays refused). The session recorder allows no pictures at all.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Iterator
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from tests.fixtures.media import PublishFactory
from tests.fixtures.recorder import CallbackSink, RecorderProcess, start_recorder
from tests.integration.recorder.checks import (
    RGB,
    close_to,
    colour_at,
    download,
    mix_config,
    start_recording,
    stop_recording,
    wait_status,
)
from tests.media_files import decode_video

from cloudrec_devenv.janus import Janus
from cloudrec_devenv.publisher import color_for
from cloudrec_devenv.s3 import S3Server
from cloudrec_protocol.events import RecorderWarningCode

pytestmark = [pytest.mark.media, pytest.mark.timeout(180)]

RECORDER_UID = "900021"
PINK: RGB = (250, 120, 200)
TEAL: RGB = (20, 160, 150)
ORANGE: RGB = (250, 140, 10)
VIOLET: RGB = (130, 60, 220)
MAX_BYTES = 64 * 1024
W, H = 320, 240


def picture(
    codec: str, left: RGB, right: RGB | None = None, size: tuple[int, int] = (160, 120)
) -> bytes:
    """A JPG (``mjpeg``) or PNG file: ``left`` colour, or ``left`` | ``right`` halves."""
    width, height = size
    image = np.empty((height, width, 3), np.uint8)
    image[:] = left
    if right is not None:
        image[:, width // 2 :] = right
    return _encode(codec, image)


def noise_png(size: int) -> bytes:
    """A PNG of random pixels (incompressible): about ``3 * size * size`` bytes."""
    image = np.random.default_rng(7).integers(0, 256, (size, size, 3), dtype=np.uint8)
    return _encode("png", image)


def _encode(codec: str, image: np.ndarray) -> bytes:
    pix_fmt = "yuvj420p" if codec == "mjpeg" else "rgb24"
    context = av.CodecContext.create(codec, "w")
    context.height, context.width = image.shape[:2]
    context.pix_fmt = pix_fmt
    context.time_base = Fraction(1, 1)
    frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format=pix_fmt)
    return b"".join(bytes(p) for p in context.encode(frame) + context.encode(None))


class PictureServer:
    """A real HTTP server on ``host`` answering ``GET /<name>`` with the pictures it holds."""

    def __init__(self, host: str) -> None:
        self.pictures: dict[str, bytes] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                data = server.pictures.get(self.path.lstrip("/"))
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer((host, 0), Handler)
        self.base = f"http://{host}:{self._http.server_address[1]}"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def url(self, name: str, data: bytes | None = None) -> str:
        if data is not None:
            self.pictures[name] = data
        return f"{self.base}/{name}"

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


@pytest.fixture(scope="module")
def pictures() -> Iterator[PictureServer]:
    server = PictureServer("127.0.0.1")
    yield server
    server.close()


@pytest.fixture(scope="module")
def refused_pictures() -> Iterator[PictureServer]:
    """A picture server on a loopback address the recorder's settings do not allow."""
    server = PictureServer("127.0.0.2")
    yield server
    server.close()


@pytest.fixture(scope="module")
def image_recorder(
    tmp_path_factory: pytest.TempPathFactory,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
) -> Iterator[RecorderProcess]:
    bucket = "bg-" + secrets.token_hex(6)
    s3_server.create_bucket(bucket)
    running = start_recorder(
        tmp_path_factory.mktemp("image-recorder"),
        janus,
        callback_sink,
        s3_server,
        bucket,
        backgroundImages={
            "allowedHosts": ["127.0.0.1", "127.0.0.2"],
            "allowedNetworks": ["127.0.0.1/32"],
            "maxBytes": MAX_BYTES,
        },
    )
    try:
        yield running
    finally:
        running.process.stop()


def region(x: float, y: float, w: float, h: float, uid: str) -> dict[str, Any]:
    return {"uid": uid, "x_axis": x, "y_axis": y, "width": w, "height": h}


def warnings_of(recorder: RecorderProcess, sid: str) -> list[dict[str, Any]]:
    return [n.payload["details"] for n in recorder.sink.for_sid(sid) if n.event_type == 2]


async def test_the_mix_shows_the_canvas_picture_and_the_pictures_of_uids_without_video(
    image_recorder: RecorderProcess,
    pictures: PictureServer,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    sender, own, default = "3001", "3002", "3003"
    transcoding = {
        "width": W,
        "height": H,
        "fps": 15,
        "bitrate": 500,
        "mixedVideoLayout": 3,
        "backgroundColor": "#000000",
        "layoutConfig": [
            region(0, 0, 0.5, 0.5, sender),
            region(0.5, 0, 0.5, 0.5, own),
            region(0, 0.5, 0.25, 0.5, default),
        ],
        "backgroundImage": pictures.url("canvas.jpg", picture("mjpeg", PINK, TEAL, (400, 300))),
        "defaultUserBackgroundImage": pictures.url("default.png", picture("png", VIOLET)),
        "backgroundConfig": [
            {"uid": own, "image_url": pictures.url("own.png", picture("png", ORANGE))}
        ],
    }
    config = mix_config(transcodingConfig=transcoding)
    async with image_recorder.client() as client:
        rec = await start_recording(client, image_recorder, room, RECORDER_UID, config)
        async with publish(room, sender, width=160, height=120, color=color_for(0)):
            async with publish(room, [own, default], video=False):
                await wait_status(client, image_recorder, rec, 5)
                await asyncio.sleep(5)
                stopped = await stop_recording(client, image_recorder, rec)
    [playlist] = download(image_recorder, [stopped["serverResponse"]["fileList"]], tmp_path)
    frame = decode_video(playlist).frames[-15][1]
    expected = {
        "the sender's video": ((40, 30), color_for(0)),
        "the own picture of a uid without video": ((240, 60), ORANGE),
        "the default picture of a uid without video": ((40, 180), VIOLET),
        "the canvas picture's left half": ((120, 180), PINK),
        "the canvas picture's right half": ((280, 200), TEAL),
    }
    for what, ((x, y), colour) in expected.items():
        assert close_to(colour_at(frame, x, y), colour), (what, colour_at(frame, x, y), colour)
    assert warnings_of(image_recorder, rec.sid) == []
    mine = {"/canvas.jpg", "/default.png", "/own.png"}
    assert sorted(r for r in pictures.requests if r in mine) == sorted(mine)  # once each


async def test_a_picture_that_cannot_be_fetched_is_a_warning_and_the_colour_shows(
    image_recorder: RecorderProcess,
    pictures: PictureServer,
    refused_pictures: PictureServer,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    transcoding = {
        "width": W,
        "height": H,
        "fps": 15,
        "bitrate": 500,
        "mixedVideoLayout": 3,
        "backgroundColor": "#00C000",
        "layoutConfig": [region(0, 0, 0.5, 0.5, "3101")],
        "backgroundImage": pictures.url("missing.jpg"),
        "defaultUserBackgroundImage": refused_pictures.url("p.png", picture("png", PINK)),
        "backgroundConfig": [
            {"uid": "3102", "image_url": pictures.url("huge.png", noise_png(200))},
        ],
    }
    config = mix_config(transcodingConfig=transcoding)
    async with image_recorder.client() as client:
        rec = await start_recording(client, image_recorder, room, RECORDER_UID, config)
        async with publish(room, "3101", width=160, height=120, color=color_for(1)):
            await wait_status(client, image_recorder, rec, 5)
            await asyncio.sleep(4)
            stopped = await stop_recording(client, image_recorder, rec)
    assert stopped["serverResponse"]["uploadingStatus"] == "uploaded"
    [playlist] = download(image_recorder, [stopped["serverResponse"]["fileList"]], tmp_path)
    frame = decode_video(playlist).frames[-15][1]
    assert close_to(colour_at(frame, 40, 30), color_for(1))
    assert close_to(colour_at(frame, 240, 180), (0, 192, 0))
    warned = warnings_of(image_recorder, rec.sid)
    assert all(
        w["module"] == 0 and w["warnCode"] == RecorderWarningCode.BACKGROUND_IMAGE_UNAVAILABLE
        for w in warned
    )
    reasons = sorted(w["warnMsg"] for w in warned)
    assert len(reasons) == 3, reasons
    assert reasons[0].startswith("backgroundConfig[0].image_url: the picture is")
    assert str(MAX_BYTES) in reasons[0]
    assert reasons[1] == "backgroundImage: the server answered HTTP 404"
    assert reasons[2].startswith("defaultUserBackgroundImage: host 127.0.0.2: 127.0.0.2 is a")
    assert "loopback" in reasons[2]
    assert refused_pictures.requests == []  # never connected to


async def test_update_layout_brings_a_canvas_picture_mid_recording(
    image_recorder: RecorderProcess,
    pictures: PictureServer,
    room: str,
    publish: PublishFactory,
    tmp_path: Path,
) -> None:
    layout = {"mixedVideoLayout": 3, "layoutConfig": [region(0, 0, 0.5, 0.5, "3201")]}
    transcoding = {"width": W, "height": H, "fps": 15, "bitrate": 500, **layout}
    config = mix_config(streamTypes=1, transcodingConfig=transcoding)
    async with image_recorder.client() as client:
        rec = await start_recording(client, image_recorder, room, RECORDER_UID, config)
        async with publish(room, "3201", width=160, height=120, color=color_for(2)):
            await wait_status(client, image_recorder, rec, 5)
            await asyncio.sleep(3)
            body = {
                "cname": room,
                "uid": RECORDER_UID,
                "clientRequest": {
                    **layout,
                    "backgroundImage": pictures.url("later.png", picture("png", ORANGE)),
                },
            }
            updated = await client.post(image_recorder.url(rec.path("updateLayout")), json=body)
            assert updated.status_code == 200, updated.text
            await asyncio.sleep(3)
            stopped = await stop_recording(client, image_recorder, rec)
    [playlist] = download(image_recorder, [stopped["serverResponse"]["fileList"]], tmp_path)
    frames = decode_video(playlist).frames
    assert close_to(colour_at(frames[15][1], 240, 180), (0, 0, 0))
    assert close_to(colour_at(frames[-15][1], 240, 180), ORANGE)
    assert close_to(colour_at(frames[-15][1], 40, 30), color_for(2))


async def test_a_recorder_that_allows_no_pictures_refuses_a_request_naming_one(
    recorder: RecorderProcess, room: str, publish: PublishFactory
) -> None:
    image = {"backgroundImage": "https://img.example.com/a.jpg"}
    transcoding = {"width": W, "height": H, "fps": 15, "bitrate": 500}
    async with recorder.client() as client:
        acquired = await client.post(recorder.url("acquire"), json={"cname": room, "uid": "900022"})
        rid = acquired.json()["resourceId"]
        request = {
            "recordingConfig": mix_config(transcodingConfig={**transcoding, **image}),
            "recordingFileConfig": {"avFileType": ["hls"]},
            "storageConfig": recorder.storage_config(),
        }
        refused = await client.post(
            recorder.url(f"resourceid/{rid}/mode/mix/start"),
            json={"cname": room, "uid": "900022", "clientRequest": request},
        )
        assert refused.status_code == 400
        assert refused.json()["code"] == 2
        assert refused.json()["reason"] == (
            "clientRequest.recordingConfig.transcodingConfig.backgroundImage: background images"
            " are not allowed on this recorder (its backgroundImages.allowedHosts setting is"
            " empty)"
        )
        rec = await start_recording(
            client, recorder, room, RECORDER_UID, mix_config(transcodingConfig=transcoding)
        )
        body = {"cname": room, "uid": RECORDER_UID, "clientRequest": image}
        update = await client.post(recorder.url(rec.path("updateLayout")), json=body)
        assert (update.status_code, update.json()["code"]) == (400, 2)
        assert update.json()["reason"].startswith("clientRequest.backgroundImage: background")
        async with publish(room, "3301", width=160, height=120):
            await wait_status(client, recorder, rec, 5)
            await stop_recording(client, recorder, rec)


async def test_a_picture_from_a_host_not_allowed_is_refused_naming_the_field(
    image_recorder: RecorderProcess, room: str
) -> None:
    transcoding = {
        "width": W,
        "height": H,
        "fps": 15,
        "bitrate": 500,
        "backgroundConfig": [
            {"uid": "1", "image_url": "http://127.0.0.1:9/a.png"},
            {"uid": "2", "image_url": "http://metadata.google.internal/a.png"},
        ],
    }
    async with image_recorder.client() as client:
        acquired = await client.post(
            image_recorder.url("acquire"), json={"cname": room, "uid": RECORDER_UID}
        )
        rid = acquired.json()["resourceId"]
        request = {
            "recordingConfig": mix_config(transcodingConfig=transcoding),
            "recordingFileConfig": {"avFileType": ["hls"]},
            "storageConfig": image_recorder.storage_config(),
        }
        refused = await client.post(
            image_recorder.url(f"resourceid/{rid}/mode/mix/start"),
            json={"cname": room, "uid": RECORDER_UID, "clientRequest": request},
        )
    assert (refused.status_code, refused.json()["code"]) == (400, 2)
    assert refused.json()["reason"].startswith(
        "clientRequest.recordingConfig.transcodingConfig.backgroundConfig[1].image_url:"
        " host metadata.google.internal is not one the recorder may fetch images from"
    )
