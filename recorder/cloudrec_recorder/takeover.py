"""Take-over of a lost replica's recordings: the messages and the pure decisions.

A replica that dies without draining (a crash, SIGKILL, a lost node) cannot hand its
recordings over (handover.py). Instead every replica tells its peers, every
``takeover.heartbeatSeconds`` and whenever a segment completes, what it holds (a
:class:`Beat`, over the authenticated peer API, :mod:`~cloudrec_recorder.heartbeat`): for
each running recording (mix or individual, paused or not) a :class:`Standby` record with
what a peer needs to go on with it (the start request, the layout and subscription now in
force, the output clock or an individual recording's clock per output, where its complete
media ends, when it was paused). Peers keep the records in memory only (they carry the
storage keys), never on disk, in logs or in answers to anyone else.

When a replica's beats stop for ``takeover.deadAfterSeconds``, the first live replica in
its ring order (:func:`successor`, the same order a drain offers recordings in) starts each
recording the lost one held under the same sid and resource id, with the service's
``bak<n>_`` names (:func:`backup_prefix`) and event 12 naming both replicas and the media
time missing (:func:`gap_ms`). An individual recording's outputs go on on their own clocks
under those names (:func:`taken_clocks`); a paused recording goes on paused. Its beats then
name the sids it holds with a higher take-over count, which is what fences the lost replica
should it come back (SIGSTOP then SIGCONT, a partition healed): it stops every recording a
peer holds with a higher count (:func:`fenced`) and routes requests for it there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from pydantic.alias_generators import to_camel

from cloudrec_protocol.filenames import parse_utc_stamp
from cloudrec_recorder.handover import TrackClock

__all__ = [
    "Beat",
    "Held",
    "Standby",
    "backup_prefix",
    "dead_replicas",
    "fenced",
    "gap_ms",
    "media_until_ms",
    "successor",
    "taken_clocks",
]

_REPLICA = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
_BACKUP = re.compile(r"^bak[0-9]+_")


class _Message(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class Standby(_Message):
    """One running recording, as a peer needs it to go on with it (secrets included: only
    ever sent over the authenticated peer API and kept in memory)."""

    sid: str = Field(pattern=r"^[0-9a-f]{32}$")
    resource_id: str = Field(min_length=1, max_length=512)
    cname: str = Field(min_length=1, max_length=128)
    uid: str = Field(min_length=1, max_length=64)
    client_request: dict[str, Any]
    layout: dict[str, Any] | None = None
    """The last ``updateLayout`` clientRequest, if any."""
    subscribe: dict[str, Any] | None = None
    """The last ``update`` streamSubscribe, if any."""
    expired_hour: int = Field(ge=1)
    origin_epoch_ms: int = Field(ge=0)
    """Wall-clock time of output time 0: a taker's output runs on it."""
    first_frame_ms: int = Field(ge=0)
    media_until_ms: int | None = Field(default=None, ge=0)
    """Where the recording's complete media ends (its last complete segment's end; an
    individual recording's: the earliest such end among its outputs still fed)."""
    takeovers: int = Field(default=0, ge=0, le=1000)
    """How many times it was taken over already (its files are ``bak<takeovers-1>_``)."""
    mode: str = Field(default="mix", pattern=r"^(mix|individual)$")
    tracks: list[TrackClock] = Field(default_factory=list, max_length=1_000)
    """An individual recording's outputs, each on its own clock (as a hand-over's offer)."""
    paused_ms: int | None = Field(default=None, ge=0)
    """When it was paused (Unix ms), if it is paused now: a taker goes on paused."""

    @model_serializer(mode="wrap")
    def _as_before(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The three fields above only when they say something: a running mix recording's
        record is what a replica without them (during a rolling update) accepts."""
        out: dict[str, Any] = handler(self)
        for name in ("mode", "tracks", "pausedMs", "paused_ms"):
            if name in out and out[name] in ("mix", [], None):
                del out[name]
        return out


class Held(_Message):
    """A sid a replica holds, and how many take-overs it went through."""

    sid: str = Field(pattern=r"^[0-9a-f]{32}$")
    takeovers: int = Field(default=0, ge=0, le=1000)


class Beat(_Message):
    """What a replica tells a peer (and answers with its own) about one app id."""

    replica: str = Field(pattern=_REPLICA)
    boot: str = Field(pattern=r"^[0-9a-f]{16,64}$")
    """Changes at every process start: a replica that came back is not the lost one."""
    ready: bool = True
    recordings: list[Standby] = Field(default_factory=list, max_length=10_000)
    held: list[Held] = Field(default_factory=list, max_length=10_000)
    """Every sid running here (taken over or not), for routing and fencing."""


def backup_prefix(takeovers: int) -> str:
    """File-name prefix after the ``takeovers``-th take-over (protocol.md §8: ``bak<n>_``,
    n from 0); the original files have none."""
    return "" if takeovers <= 0 else f"bak{takeovers - 1}_"


def dead_replicas(
    last_seen: Mapping[str, float], holding: Iterable[str], now: float, dead_after: float
) -> list[str]:
    """The replicas among ``holding`` (those with recordings) not heard from for
    ``dead_after`` seconds, in name order."""
    return sorted(r for r in holding if now - last_seen.get(r, now) >= dead_after)


def successor(
    lost: str, ring: Sequence[str], alive: Iterable[str], here: str | None = None
) -> str | None:
    """The replica that takes ``lost``'s recordings: the first live one after ``lost`` in
    ``ring`` order (wrapping). ``here`` is alive if listed in ``alive``. None: no one."""
    live = set(alive) - {lost}
    names = list(dict.fromkeys(ring))
    if lost in names:
        at = names.index(lost)
        names = names[at + 1 :] + names[:at]
    for name in names:
        if name in live:
            return name
    if here is not None and here in live:
        return here
    return None


def fenced(
    here: str, mine: Mapping[str, int], theirs: Mapping[str, Mapping[str, int]]
) -> dict[str, str]:
    """The sids this replica must give up: sid -> the peer that holds it now. A peer
    holding the sid after more take-overs wins; on a tie (two takers of one loss, after a
    partition) the replica whose name sorts first keeps it."""
    out: dict[str, str] = {}
    for sid, count in mine.items():
        for peer, held in theirs.items():
            other = held.get(sid)
            if other is None or peer == here:
                continue
            if other > count or (other == count and peer < here):
                out[sid] = peer
    return out


def media_until_ms(playlist: str) -> int | None:
    """Where a mix playlist's media ends: its last segment's start (the ``<utc>`` of its
    name) plus its ``#EXTINF`` duration, in Unix ms; None without a segment."""
    duration: float | None = None
    end: int | None = None
    for raw in playlist.splitlines():
        line = raw.strip()
        if line.startswith("#EXTINF:"):
            try:
                duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
            except ValueError:
                duration = None
        elif line and not line.startswith("#") and duration is not None:
            start = parse_utc_stamp(line)
            if start is not None:
                end = start + round(duration * 1000)
            duration = None
    return end


def gap_ms(media_until: int | None, resumed_at_ms: int, paused_ms: int | None = None) -> int | None:
    """Media time missing between the lost replica's last complete segment and the
    taker's first frame (None when the lost replica had no complete segment). A recording
    paused when its replica was lost misses only what came before the pause: nothing was to
    be recorded after it."""
    if media_until is None:
        return None
    end = resumed_at_ms if paused_ms is None else min(paused_ms, resumed_at_ms)
    return max(0, end - media_until)


def taken_clocks(tracks: Sequence[TrackClock], takeovers: int) -> list[TrackClock]:
    """A lost replica's individual outputs as its taker goes on with them: under the names
    of the ``takeovers``-th take-over (:func:`backup_prefix` in place of the old one), on
    the same clocks. A track stored as received has no giver to match packets with: the
    taker goes on with it as with an idle one, on a shift taken from the wall clock (the
    media time the lost replica missed shows as a step, as on a re-encoded output)."""
    prefix = backup_prefix(takeovers)
    return [
        clock.model_copy(
            update={"playlist": prefix + _BACKUP.sub("", clock.playlist), "idle": clock.copied}
        )
        for clock in tracks
    ]
