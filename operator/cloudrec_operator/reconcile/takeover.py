"""What event 12 (session_failover) does to a CloudRecording: a hand-over, or a take-over.

The recorder sends event 12 when a recording moves to another recorder replica (protocol.md
§7.6; the names of both replicas are our extension). A planned hand-over (a drain) loses no
media: a ``HandedOver`` Event says where the recording is now, nothing else changes. A
take-over after the holding replica was lost (a crash, a lost node) carries ``gapMs``, the
media time missing: a ``TakenOver`` Warning Event says so, and the ``Degraded`` condition
turns True with reason ``TakenOver`` and the gap in its message. It stays True while the
recording runs (:func:`still_degraded`: the files have that gap for good); phase and Ready
stay as they are.
"""

from __future__ import annotations

from datetime import datetime

from cloudrec_protocol.events import SessionFailoverDetails

from .model import EventRecord, Reason, Tracked, Transition

__all__ = ["on_failover", "still_degraded"]


def on_failover(tracked: Tracked, d: SessionFailoverDetails, now: datetime) -> Transition:
    """The transition event 12 brings (see the module docstring)."""
    tracked = tracked.replace(failover_at=now, not_found_since=None)
    uid = f"recorder uid {d.new_uid}"
    if d.gap_ms is None:
        if d.from_replica and d.to_replica:
            where = f"from recorder replica {d.from_replica} to {d.to_replica}"
        else:
            where = "to another recorder"
        return Transition(
            tracked, (EventRecord(Reason.HANDED_OVER, f"Handed over {where} ({uid})"),)
        )
    lost = f"recorder replica {d.from_replica}" if d.from_replica else "its recorder"
    taker = f"replica {d.to_replica}" if d.to_replica else "another recorder"
    message = (
        f"Taken over by {taker} ({uid}) after {lost} was lost: "
        f"{d.gap_ms / 1000:.1f}s of media missing"
    )
    return Transition(
        tracked.replace(degraded=Reason.TAKEN_OVER, degraded_message=message),
        (EventRecord(Reason.TAKEN_OVER, message, warning=True),),
    )


def still_degraded(tracked: Tracked) -> tuple[str | None, str]:
    """(reason, message) of ``Degraded`` once the recorder answers well again: a take-over's
    gap stays shown; a transient problem is over."""
    if tracked.degraded == Reason.TAKEN_OVER:
        return tracked.degraded, tracked.degraded_message
    return None, ""
