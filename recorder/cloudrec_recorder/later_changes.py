"""A moved recording's later changes: the layout and subscription its owner accepted after the
start, brought into force on the replica that goes on with it (a hand-over's taker, at the
offer, at each poll that carries them and at the giver's done; a take-over's taker, from the
lost replica's last beat)."""

from __future__ import annotations

import logging
from typing import Protocol

from cloudrec_protocol.models import LayoutSettings, StreamSubscribe
from cloudrec_recorder.handover import Changes

__all__ = ["Changeable", "apply_changes"]

log = logging.getLogger(__name__)


class Changeable(Protocol):
    """A running recording (:class:`~cloudrec_recorder.recording.ChannelRecording`)."""

    sid: str
    layout: LayoutSettings | None
    subscribe: StreamSubscribe | None

    async def update_layout(self, layout: LayoutSettings) -> None: ...

    async def update(self, subscribe: StreamSubscribe) -> None: ...


async def apply_changes(recording: Changeable, changes: Changes) -> None:
    """Bring ``recording`` to the layout and subscription ``changes`` names; what it has
    already is left alone. One that does not apply is logged (the recording goes on)."""
    try:
        layout, subscribe = changes.parsed()
        if layout is not None and layout != recording.layout:
            await recording.update_layout(layout)
        if subscribe is not None and subscribe != recording.subscribe:
            await recording.update(subscribe)
    except Exception as exc:
        log.warning("Moved sid=%s: a later change not applied: %s", recording.sid, exc)
