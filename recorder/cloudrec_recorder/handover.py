"""Hand-over of a running recording between replicas: the messages and the pure decisions.

A draining replica (the giver, :mod:`~cloudrec_recorder.giving`) offers each running
recording to a ready peer (the taker, :mod:`~cloudrec_recorder.taking`) over the peer routes
of :mod:`~cloudrec_recorder.handing`:

1. ``POST .../handover/offer`` (:class:`Offer`): the taker joins the channel as a new uid
   (:func:`taker_uid`; the giver is still in the room) and records under the same sid and
   resource id, on the giver's output clock;
2. ``GET .../handover/{sid}`` (:class:`TakerReport`): the giver polls until the taker names
   the cut (:func:`choose_cut`, a segment boundary after its first media) and then has a
   complete segment from the cut on; the giver's files end at the cut, the taker's begin there;
3. the giver leaves, finishes and delivers its files, and ``POST .../handover/{sid}/done``
   (:class:`GiverDone`) hands the taker its final playlists; the taker writes each playlist
   as the giver's entries (:func:`playlist_entries`), ``#EXT-X-DISCONTINUITY`` and its own
   segments, and sends event 12 (session_failover).

An individual recording has one clock per output (a uid's audio or video playlist, time 0 at
its first frame on the giver): the offer names each (:class:`TrackClock`), the taker runs each
on its own clock and names one cut per output (:func:`choose_cuts`), and the giver waits until
each has a complete segment from its cut (:func:`tracks_taken`). A track stored as received
has no output clock: the giver sends its newest packets' digests with each poll
(:class:`GiverMarks`), the taker finds the shift between its packet times and the giver's
(media/track_cuts.py) and only then names that track's cut (:func:`stored_cut`).

What was changed after the start goes along (:class:`Changes`: the last ``updateLayout`` and
the last ``update``'s subscription in force): in the offer, in every poll once it differs
from what the taker has, and in the giver's done, so the taker's media follows them from
its first frame to its last.

Requests for the sid then reach the taker: the giver keeps a redirect
(:mod:`~cloudrec_recorder.redirects`) and :func:`route` says where a request goes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cloudrec_protocol.manifest import ManifestObject, TimelineEntry
from cloudrec_protocol.models import LayoutSettings, StreamSubscribe
from cloudrec_recorder.media.cut import DISCONTINUITY
from cloudrec_recorder.media.hls import SegmentSchedule
from cloudrec_recorder.media.track_cuts import TrackClock as MediaTrackClock

__all__ = [
    "Changes",
    "GiverDone",
    "GiverMarks",
    "Offer",
    "PeerState",
    "TakerReport",
    "TrackClock",
    "choose_cut",
    "choose_cuts",
    "choose_taker",
    "listed_segments",
    "playlist_entries",
    "route",
    "stored_cut",
    "taker_uid",
    "tracks_taken",
]

_HEADER_TAGS = (
    "#EXTM3U",
    "#EXT-X-VERSION",
    "#EXT-X-TARGETDURATION",
    "#EXT-X-MEDIA-SEQUENCE",
    "#EXT-X-PLAYLIST-TYPE",
    "#EXT-X-ENDLIST",
)
TAKER_UID_LOW = 2**31
"""Taker uids are drawn from the upper half of the 32-bit range (publishers rarely use it)."""


class _Message(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class TrackClock(_Message):
    """One output of an individual recording (a uid's audio or video playlist) on the giver."""

    playlist: str = Field(min_length=1, max_length=512, pattern=r"^[^/]+\.m3u8$")
    uid: str = Field(min_length=1, max_length=64)
    video: bool
    origin_epoch_ms: int = Field(ge=0)
    """Wall-clock time of the output's time 0 (its uid's first frame of the track)."""
    width: int = Field(default=0, ge=0, le=7680)
    height: int = Field(default=0, ge=0, le=7680)
    copied: bool = False
    """Stored as received: its time 0 is its first packet's on the giver, its cut waits for
    the shift between the two replicas' packet times."""
    idle: bool = False
    """Stored and silent lately: ended on the giver; the taker goes on if the uid sends."""

    @classmethod
    def of(cls, clock: MediaTrackClock) -> TrackClock:
        return cls(
            playlist=clock.playlist,
            uid=clock.uid,
            video=clock.video,
            origin_epoch_ms=clock.origin_epoch_ms,
            width=clock.width,
            height=clock.height,
            copied=clock.copied,
            idle=clock.idle,
        )

    def media(self) -> MediaTrackClock:
        return MediaTrackClock(
            self.playlist,
            self.uid,
            self.video,
            self.origin_epoch_ms,
            self.width,
            self.height,
            self.copied,
            self.idle,
        )


class Changes(_Message):
    """What the recording's owner accepted after its start and is in force now: the last
    ``updateLayout`` clientRequest and the last ``update`` streamSubscribe (None: never)."""

    layout: dict[str, Any] | None = None
    subscribe: dict[str, Any] | None = None

    @classmethod
    def of(cls, layout: LayoutSettings | None, subscribe: StreamSubscribe | None) -> Changes:
        return cls(
            layout=layout.to_wire() if layout is not None else None,
            subscribe=subscribe.to_wire() if subscribe is not None else None,
        )

    def parsed(self) -> tuple[LayoutSettings | None, StreamSubscribe | None]:
        """The layout and the subscription (ValueError: one does not parse)."""
        layout = LayoutSettings.model_validate(self.layout) if self.layout is not None else None
        subscribe = (
            StreamSubscribe.model_validate(self.subscribe) if self.subscribe is not None else None
        )
        return layout, subscribe


class Offer(_Message):
    """What the taker needs to go on recording ``sid`` (sent over the authenticated peer API:
    it carries the start request, with its storage keys)."""

    sid: str = Field(pattern=r"^[0-9a-f]{32}$")
    resource_id: str = Field(min_length=1, max_length=512)
    cname: str = Field(min_length=1, max_length=128)
    uid: str = Field(min_length=1, max_length=64)
    mode: str = Field(pattern=r"^(mix|individual)$")
    client_request: dict[str, Any]
    expired_hour: int = Field(ge=1)
    giver: str = Field(min_length=1, max_length=63)
    taker_uid: str = Field(pattern=r"^[0-9]{1,10}$")
    origin_epoch_ms: int = Field(ge=0)
    """Wall-clock time of the giver's output time 0: the taker's output runs on it."""
    first_frame_ms: int = Field(ge=0)
    """The recording's first media (``sliceStartTime``), as the giver reports it."""
    next_mp4_index: int = Field(default=0, ge=0)
    tracks: list[TrackClock] = Field(default_factory=list, max_length=1_000)
    """An individual recording's outputs, each on its own clock."""
    takeovers: int = Field(default=0, ge=0, le=1000)
    """Take-overs the recording went through (takeover.py): the taker keeps its names."""
    changes: Changes = Field(default_factory=Changes)
    """The layout and subscription in force on the giver now."""


class TakerReport(_Message):
    """Where the taker is: the cut once chosen, and whether a segment from it is complete."""

    cut: float | None = None
    first_segment: bool = False
    failed: bool = False
    cuts: dict[str, float] = Field(default_factory=dict)
    """An individual recording's cut of each output, by playlist (on that output's clock)."""


class GiverMarks(_Message):
    """The giver's newest packets of each track stored as received (digest, time), by
    playlist: the taker finds its shift from the packets both received."""

    marks: dict[
        Annotated[str, Field(max_length=512)],
        Annotated[list[tuple[Annotated[str, Field(max_length=32)], int]], Field(max_length=512)],
    ] = Field(default_factory=dict, max_length=1_000)
    changes: Changes | None = None
    """The giver's layout and subscription, when they changed since the taker last had them."""


class GiverDone(_Message):
    """The giver's final playlists (name -> text) and the objects it put in the bucket (its
    manifest's entries: the taker's manifest vouches for the whole recording)."""

    playlists: dict[str, str] = Field(default_factory=dict)
    objects: list[ManifestObject] = Field(default_factory=list, max_length=100_000)
    files: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    """The giver's ``fileList`` items (its MP4 parts, its playlist's first slice time)."""
    timeline: list[TimelineEntry] = Field(default_factory=list, max_length=100_000)
    """The giver's manifest timeline but its start and its stop (its pauses, gaps and the
    hand-overs before this one): the taker's manifest tells the whole course."""
    changes: Changes | None = None
    """The giver's layout and subscription at its end (None: an older giver's done)."""


def taker_uid(draw: Callable[[int], int] = secrets.randbelow) -> str:
    """A uid for the taker, other than the giver's (both are in the room for a while)."""
    return str(TAKER_UID_LOW + draw(2**32 - 1 - TAKER_UID_LOW))


def choose_cut(schedule: SegmentSchedule, output_time: float, margin: float) -> float:
    """The first segment boundary at least ``margin`` seconds after ``output_time``."""
    return schedule.boundary(schedule.index_at(output_time + margin) + 1)


def choose_cuts(
    schedule: SegmentSchedule, clocks: Sequence[TrackClock], now_ms: int, margin: float
) -> dict[str, float]:
    """Each output's cut, on its own clock: the first boundary ``margin`` seconds after now."""
    return {
        clock.playlist: choose_cut(schedule, (now_ms - clock.origin_epoch_ms) / 1000, margin)
        for clock in clocks
        if not clock.copied
    }


def stored_cut(schedule: SegmentSchedule, newest: int, rate: int, margin: float) -> float:
    """A stored track's cut on the giver's times: the first boundary ``margin`` seconds after
    the newest packet (``newest``, in ``rate`` units, shifted to the giver's times)."""
    return choose_cut(schedule, newest / rate, margin)


def tracks_taken(offered: Sequence[TrackClock], report: TakerReport) -> bool:
    """Every offered output has its cut and a complete segment from it (``first_segment``
    covers them all) on the taker, idle ones aside: the giver may end its files."""
    return report.first_segment and all(
        clock.playlist in report.cuts for clock in offered if not clock.idle
    )


def playlist_entries(text: str) -> str:
    """A playlist's entries (``#EXTINF`` lines, names, discontinuities) without its header
    and end, followed by one ``#EXT-X-DISCONTINUITY``: what goes before the taker's own."""
    lines = [
        line
        for line in text.splitlines()
        if line.strip() and not any(line.startswith(tag) for tag in _HEADER_TAGS)
    ]
    if not lines:
        return ""
    return "\n".join(lines) + "\n" + DISCONTINUITY


def listed_segments(text: str) -> list[str]:
    """The names a playlist lists (the giver's segments, in the bucket already)."""
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@dataclass(frozen=True)
class PeerState:
    """What a peer said when asked whether it could take a recording."""

    replica: str
    ready: bool
    available: int


def choose_taker(peers: Sequence[PeerState]) -> str | None:
    """The ready peer with the most room (the first listed among equals), or None."""
    able = [p for p in peers if p.ready and p.available > 0]
    if not able:
        return None
    return max(able, key=lambda p: (p.available, -peers.index(p))).replica


def route(
    *,
    here: str,
    owner: str | None,
    sid: str | None,
    held: bool,
    redirects: Mapping[str, str],
    forwarded_by: str | None,
) -> str | None:
    """Which replica handles a request (None: this one).

    A sid held here is handled here, whatever replica its resource id names (a taken-over
    recording keeps its resource id). A sid this replica handed over goes to where it went
    (also when the request was forwarded here: the resource id names the first giver), unless
    that is where it came from. Otherwise the resource id's replica handles it, and a request
    forwarded once is never forwarded again.
    """
    if sid is not None and held:
        return None
    target = redirects.get(sid) if sid is not None else None
    if target is not None and target not in (here, forwarded_by):
        return target
    if forwarded_by is not None or owner is None or owner == here:
        return None
    return owner
