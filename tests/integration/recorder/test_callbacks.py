"""Callback delivery: signed, at least once, resent after a failure with a fresh notifyMs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from cloudrec_protocol.events import EventType, LeaveCode, verify
from cloudrec_recorder.events import CallbackSender, RecordingEvents
from cloudrec_recorder.metrics import Metrics
from cloudrec_recorder.settings import CallbackSettings

SECRET = "callback-secret"


class FlakySink:
    """Answers 500 to the first ``failures`` requests, then 200; keeps every attempt."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[tuple[dict[str, Any], bool]] = []
        self.lock = threading.Lock()


@pytest.fixture
def flaky() -> Iterator[tuple[FlakySink, str]]:
    sink = FlakySink(failures=2)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            with sink.lock:
                sink.attempts.append((json.loads(raw), verify(raw, dict(self.headers), SECRET)))
                status = 500 if len(sink.attempts) <= sink.failures else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield sink, f"http://127.0.0.1:{server.server_address[1]}/cb"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_refused_notification_is_sent_again_until_it_is_accepted(
    flaky: tuple[FlakySink, str],
) -> None:
    sink, url = flaky
    metrics = Metrics()
    sender = CallbackSender(metrics)
    await sender.start()
    target = CallbackSettings(urls=[url], secret=SecretStr(SECRET), retries=3)  # type: ignore[list-item]
    events = RecordingEvents(sender, target, "room", "42", "sid1")
    events.recorder_started()
    events.recorder_leave(LeaveCode.CLIENT_LEAVE)
    await sender.close(wait_seconds=20)
    bodies = [body for body, _ in sink.attempts]
    assert all(ok for _, ok in sink.attempts), "a notification was not signed correctly"
    started = [b for b in bodies if b["eventType"] == EventType.RECORDER_STARTED]
    assert len(started) >= 2, "the refused notification was not resent"
    assert len({b["noticeId"] for b in started}) == 1
    assert started[0]["payload"] == started[-1]["payload"]
    leave = next(b for b in bodies if b["eventType"] == EventType.RECORDER_LEAVE)
    assert leave["productId"] == 3
    assert leave["payload"]["details"] == {
        "msgName": "recorder_leave",
        "leaveCode": LeaveCode.CLIENT_LEAVE,
    }
    assert sorted(b["payload"]["sequence"] for b in (started[0], leave)) == [0, 1]
    sent = metrics.registry.get_sample_value("cloudrec_callbacks_sent_total", {"event_type": "40"})
    assert sent == 1.0


async def test_a_notification_is_given_up_after_its_retries(flaky: tuple[FlakySink, str]) -> None:
    sink, url = flaky
    sink.failures = 100
    metrics = Metrics()
    sender = CallbackSender(metrics)
    await sender.start()
    target = CallbackSettings(urls=[url], secret=SecretStr(SECRET), retries=1)  # type: ignore[list-item]
    RecordingEvents(sender, target, "room", "42", "sid2").session_exit()
    await sender.close(wait_seconds=20)
    assert len(sink.attempts) == 2
    failed = metrics.registry.get_sample_value(
        "cloudrec_callbacks_failed_total", {"event_type": "11"}
    )
    assert failed == 1.0
