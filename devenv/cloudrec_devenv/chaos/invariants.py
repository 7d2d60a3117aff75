"""What must hold at the end of a chaos run, as pure checks over what the run observed.

The run gathers facts (the recorder's event notifications, the recorder kills, the
CloudRecordings as the API server returns them, who is in each Janus room, the bucket's keys)
and each check here turns them into a list of violations, one readable line each; an empty list
means the invariant holds:

* :func:`overlapping_recordings`: no two recordings of one CloudRecording at once;
* :func:`unwanted_recordings`: no recording in a channel without a resource that wants it;
* :func:`sid_mismatches`: a recording resource's ``status.recordingId`` is the sid the recorder
  is recording;
* :func:`stuck_resources`: every resource is final (or rests as ``state: Stopped`` asks, nothing
  started), or retrying with a visible reason;
* :func:`playlist_problems`: a Completed resource's playlists end (``#EXT-X-ENDLIST``) and
  every segment they list is in the bucket;
* :func:`unfinished_completions`: a resource is Completed only for a recording the recorder
  said has finished (its exit notification), never for one that died.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cloudrec_operator.api.enums import ConditionStatus, DesiredState, Phase
from cloudrec_protocol.events import EventType

__all__ = [
    "FINAL_PHASES",
    "Notice",
    "RecordingLife",
    "overlapping_recordings",
    "playlist_problems",
    "recording_lives",
    "rests_stopped",
    "sid_mismatches",
    "stuck_resources",
    "unfinished_completions",
    "unwanted_recordings",
]

FINAL_PHASES = frozenset({Phase.COMPLETED, Phase.FAILED, Phase.RELEASED})
_ENDED = frozenset({EventType.RECORDER_LEAVE, EventType.SESSION_EXIT})


@dataclass(frozen=True)
class Notice:
    """One event notification the recorder sent: when it was made (epoch ms) and about what."""

    at_ms: int
    event_type: int
    cname: str
    uid: str
    sid: str

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Notice | None:
        """From a notification body; None for one that names no recording."""
        payload = body.get("payload") or {}
        sid = payload.get("sid")
        if not sid:
            return None
        return cls(
            at_ms=int(payload.get("sendts") or body.get("notifyMs") or 0),
            event_type=int(body["eventType"]),
            cname=str(payload.get("cname", "")),
            uid=str(payload.get("uid", "")),
            sid=str(sid),
        )


@dataclass(frozen=True)
class RecordingLife:
    """One recording at the recorder, from its first notification to its end."""

    cname: str
    uid: str
    sid: str
    began_ms: int
    ended_ms: int | None
    """Its leave or exit, or the first recorder kill after it began; None while it runs."""

    def describe(self) -> str:
        end = "running" if self.ended_ms is None else f"{self.ended_ms}"
        return f"sid {self.sid} ({self.began_ms} -> {end})"


def recording_lives(
    notices: Iterable[Notice], recorder_kills_ms: Sequence[int]
) -> list[RecordingLife]:
    """Every recording the notifications tell of, with when it began and ended."""
    by_sid: dict[str, list[Notice]] = {}
    for notice in notices:
        by_sid.setdefault(notice.sid, []).append(notice)
    lives = []
    for sid, seen in by_sid.items():
        began = min(n.at_ms for n in seen)
        ends = [n.at_ms for n in seen if n.event_type in _ENDED]
        ends += [k for k in recorder_kills_ms if k >= began]
        first = seen[0]
        lives.append(RecordingLife(first.cname, first.uid, sid, began, min(ends) if ends else None))
    return sorted(lives, key=lambda life: (life.cname, life.uid, life.began_ms))


def overlapping_recordings(lives: Iterable[RecordingLife]) -> list[str]:
    """Two recordings of one channel and uid (one CloudRecording) alive at the same time."""
    found = []
    last: dict[tuple[str, str], RecordingLife] = {}
    for life in sorted(lives, key=lambda life: (life.cname, life.uid, life.began_ms)):
        key = (life.cname, life.uid)
        before = last.get(key)
        if before is not None and (before.ended_ms is None or before.ended_ms > life.began_ms):
            found.append(
                f"uid {life.uid} in {life.cname}: {life.describe()} began while "
                f"{before.describe()} was still recording"
            )
        if before is None or before.ended_ms is not None:
            last[key] = life
    return found


def unwanted_recordings(
    in_channels: Mapping[str, Collection[str]], wanted: Collection[tuple[str, str]]
) -> list[str]:
    """Recorder uids in a room (``in_channels``: room -> uids) that no resource wants."""
    return [
        f"uid {uid} is in room {room} but no resource wants that recording"
        for room, uids in sorted(in_channels.items())
        for uid in sorted(uids)
        if (room, uid) not in wanted
    ]


def sid_mismatches(
    resources: Iterable[Mapping[str, Any]], running: Mapping[tuple[str, str], str]
) -> list[str]:
    """Resources in phase Recording whose sid is not the one the recorder records.

    ``running`` maps (channel, uid) to the sid the recorder is recording there.
    """
    found = []
    for obj in resources:
        status = obj.get("status") or {}
        if status.get("phase") != Phase.RECORDING:
            continue
        spec = obj["spec"]
        key = (spec["channelName"], spec["uid"])
        actual = running.get(key)
        if status.get("recordingId") != actual:
            found.append(
                f"{_name(obj)}: status.recordingId {status.get('recordingId')} but the recorder "
                f"records {actual or 'nothing'} for uid {key[1]} in {key[0]}"
            )
    return found


def _condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition.get("type") == kind:
            return dict(condition)
    return {}


def rests_stopped(obj: Mapping[str, Any]) -> bool:
    """At rest as asked: ``state: Stopped`` before any recording began (phase Pending,
    Ready True with the reason Stopped: the spec is satisfied, nothing is waited for)."""
    ready = _condition(obj, "Ready")
    return (
        (obj.get("status") or {}).get("phase") == Phase.PENDING
        and (obj.get("spec") or {}).get("state") == DesiredState.STOPPED
        and ready.get("status") == ConditionStatus.TRUE
        and ready.get("reason") == DesiredState.STOPPED
    )


def stuck_resources(resources: Iterable[Mapping[str, Any]]) -> list[str]:
    """Resources neither final, nor at rest as ``state: Stopped`` asks before any recording
    began, nor retrying with a visible reason (Degraded True, a message).

    A resource being deleted is stuck whatever its phase: its finalizer should be off.
    """
    found = []
    for obj in resources:
        status = obj.get("status") or {}
        phase = status.get("phase")
        if obj.get("metadata", {}).get("deletionTimestamp"):
            found.append(f"{_name(obj)}: still there after its deletion (phase {phase})")
            continue
        if phase in FINAL_PHASES or rests_stopped(obj):
            continue
        degraded = _condition(obj, "Degraded")
        if degraded.get("status") == ConditionStatus.TRUE and degraded.get("message"):
            continue
        ready = _condition(obj, "Ready")
        found.append(
            f"{_name(obj)}: phase {phase}, not retrying visibly "
            f"(Ready {ready.get('reason')}: {ready.get('message')!r})"
        )
    return found


def playlist_problems(playlists: Mapping[str, str | None], keys: Collection[str]) -> list[str]:
    """Playlists (key -> text, None when missing) that do not end or miss segments."""
    found = []
    for key, text in sorted(playlists.items()):
        if text is None:
            found.append(f"{key}: not in the bucket")
            continue
        if "#EXT-X-ENDLIST" not in text.splitlines():
            found.append(f"{key}: no #EXT-X-ENDLIST (the playlist never ended)")
        folder = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
        missing = [
            line
            for line in text.splitlines()
            if line and not line.startswith("#") and folder + line not in keys
        ]
        if missing:
            found.append(
                f"{key}: {len(missing)} listed segment(s) not in the bucket: {missing[:3]}"
            )
    return found


def unfinished_completions(
    resources: Iterable[Mapping[str, Any]], notices: Iterable[Notice]
) -> list[str]:
    """Completed resources whose recording never told of its exit (it died or never ran)."""
    exited = {n.sid for n in notices if n.event_type == EventType.SESSION_EXIT}
    found = []
    for obj in resources:
        status = obj.get("status") or {}
        sid = status.get("recordingId")
        if status.get("phase") == Phase.COMPLETED and sid not in exited:
            found.append(
                f"{_name(obj)}: Completed, but the recorder never said recording {sid} exited"
            )
    return found


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata", {})
    return f"{meta.get('namespace', '?')}/{meta.get('name', '?')}"
