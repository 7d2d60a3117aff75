"""The recorder's interface types: what the API (``app``) needs of a recording, and what the
running recorder holds. The app, the recordings and the restart logic meet here, so none of
them imports another's module for its types.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from cloudrec_protocol.models import (
    LayoutSettings,
    ServerResponse,
    StartClientRequest,
    StreamSubscribe,
)
from cloudrec_recorder.events import CallbackSender, RecordingEvents
from cloudrec_recorder.metrics import Metrics
from cloudrec_recorder.quotas import AcquireRate
from cloudrec_recorder.sessions import Resource, SessionRegistry
from cloudrec_recorder.settings import RecorderSettings

__all__ = ["RecordMode", "RecorderState", "Recording", "RecordingFactory", "StopOutcome"]

log = logging.getLogger(__name__)


class RecordMode(StrEnum):
    """The recording modes this recorder serves (no ``web`` page recording)."""

    INDIVIDUAL = "individual"
    MIX = "mix"


@dataclass
class StopOutcome:
    """What ``stop`` reports: the files and the upload state."""

    server_response: ServerResponse
    had_media: bool
    upload_timed_out: bool = False


class Recording(Protocol):
    """One recording as the API sees it (implemented by :mod:`cloudrec_recorder.recording`)."""

    def status(self) -> int: ...

    async def start(self) -> None:
        """Join the channel; raise :class:`ApiError` when that fails."""

    async def update(self, subscribe: StreamSubscribe) -> None: ...

    async def update_layout(self, layout: LayoutSettings) -> None: ...

    async def stop(self, *, wait_upload: bool, wait_seconds: float) -> StopOutcome:
        """Leave the channel, finish the files; upload (waited for when ``wait_upload``)."""

    def server_response(self) -> ServerResponse:
        """The query answer: status, fileListMode, fileList, sliceStartTime."""


class RecordingFactory(Protocol):
    """Builds (and validates) a recording; raises :class:`ApiError` for a bad request."""

    def __call__(
        self,
        *,
        appid: str,
        resource: Resource,
        sid: str,
        mode: RecordMode,
        request: StartClientRequest,
        events: RecordingEvents,
        on_exit: Callable[[], None],
    ) -> Recording: ...


@dataclass
class RecorderState:
    """What the running app holds (``app.state.recorder``)."""

    settings: RecorderSettings
    registry: SessionRegistry[Recording]
    metrics: Metrics
    sender: CallbackSender
    factory: RecordingFactory
    acquire_rate: AcquireRate

    async def drain(self) -> None:
        """Take no new work, stop every running recording, finish files and callbacks."""
        self.registry.draining = True
        for session in self.registry.live_sessions():
            if session.stop_requested:
                continue
            session.stop_requested = True
            try:
                await session.recording.stop(
                    wait_upload=True, wait_seconds=self.settings.drain_timeout_seconds
                )
            except Exception:
                log.exception("Drain failed to stop recording sid=%s", session.sid)
        await self.sender.flush(10.0)
