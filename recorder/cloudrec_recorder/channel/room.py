"""Who is in a VideoRoom room, kept from Janus' messages (pure: no I/O).

:class:`RoomState` applies what Janus says to a participant (the ``joined``
answer, ``publishers`` / ``joining`` / ``unpublished`` / ``leaving`` /
``kicked`` / ``destroyed`` events, and ``listparticipants`` listings) and
returns the :data:`ChannelEvent` values that describe the change. The channel
client feeds it; unit tests feed it plain dictionaries.

Ids are strings here whatever the server uses: the launcher's Janus runs
VideoRoom with ``string_ids``; a stock Janus (``string_ids = false``, the
default) sends numbers, which are turned into strings. :func:`janus_id` does
the other direction: the value a request must carry for the server's mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "JANUS_MAX_ID",
    "RECORDER_DISPLAY_PREFIX",
    "SUBSTREAM_HIGH",
    "SUBSTREAM_LOW",
    "ChannelClosed",
    "ChannelEvent",
    "ParticipantsChanged",
    "PublisherInfo",
    "PublisherJoined",
    "PublisherLeft",
    "PublisherUpdated",
    "RoomState",
    "StreamInfo",
    "is_recorder",
    "janus_id",
    "parse_publisher",
    "publisher_join_request",
    "recorder_display",
]

SUBSTREAM_HIGH = 2
"""Simulcast substream for videoStreamType High (the largest encoding)."""
SUBSTREAM_LOW = 0
"""Simulcast substream for videoStreamType Low (the smallest encoding)."""


@dataclass(frozen=True)
class StreamInfo:
    """One stream (m-line) a publisher sends."""

    type: str
    """``audio``, ``video`` or ``data``."""
    mid: str
    codec: str | None = None
    simulcast: bool = False
    disabled: bool = False


@dataclass(frozen=True)
class PublisherInfo:
    """A participant that publishes media, with its streams."""

    uid: str
    display: str | None = None
    streams: tuple[StreamInfo, ...] = ()

    def _active(self, kind: str) -> list[StreamInfo]:
        return [s for s in self.streams if s.type == kind and not s.disabled]

    @property
    def has_audio(self) -> bool:
        return bool(self._active("audio"))

    @property
    def has_video(self) -> bool:
        return bool(self._active("video"))

    @property
    def simulcast(self) -> bool:
        """True when a video stream is sent as simulcast (substreams can be chosen)."""
        return any(s.simulcast for s in self._active("video"))

    def mids(self, *, audio: bool, video: bool) -> list[str]:
        """The publisher's mids to subscribe to for the wanted kinds (active streams only)."""
        kinds = {"audio"} if audio else set()
        if video:
            kinds.add("video")
        return [s.mid for s in self.streams if s.type in kinds and not s.disabled]


@dataclass(frozen=True)
class PublisherJoined:
    """A publisher started publishing (or was already publishing when we joined)."""

    publisher: PublisherInfo

    @property
    def uid(self) -> str:
        return self.publisher.uid

    @property
    def has_audio(self) -> bool:
        return self.publisher.has_audio

    @property
    def has_video(self) -> bool:
        return self.publisher.has_video


@dataclass(frozen=True)
class PublisherUpdated:
    """A publisher changed its streams (e.g. added video); subscriptions may need renewing."""

    publisher: PublisherInfo

    @property
    def uid(self) -> str:
        return self.publisher.uid


@dataclass(frozen=True)
class PublisherLeft:
    """A publisher stopped publishing or left the room."""

    uid: str


@dataclass(frozen=True)
class ParticipantsChanged:
    """The set of other participants or of publishers changed (idle detection)."""

    participants: frozenset[str]
    """Everyone else in the room, publishing or not (the recorder itself excluded)."""
    publishers: frozenset[str]
    """Those of them that publish media."""


@dataclass(frozen=True)
class ChannelClosed:
    """We are no longer in the room: destroyed, kicked, or the Janus session ended."""

    reason: str


ChannelEvent = (
    PublisherJoined | PublisherUpdated | PublisherLeft | ParticipantsChanged | ChannelClosed
)


JANUS_MAX_ID = 2**63 - 1
"""The largest numeric id Janus takes (a JSON integer is a signed 64-bit value for it)."""


def janus_id(value: str, *, string_ids: bool, what: str = "id") -> str | int:
    """``value`` as a VideoRoom request must carry it: as is with ``string_ids``, else an int.

    A server without ``string_ids`` takes only positive integers (0 means
    "pick one for me"), sent as JSON numbers. ``value`` must then be written
    the way Janus writes the number back (digits, no sign, no leading zero),
    or the ids in its events would not match ours. Otherwise ``ValueError``
    names ``what`` (e.g. ``cname``, ``uid``).
    """
    if string_ids:
        return value
    if not (value.isascii() and value.isdigit()) or value.startswith("0"):
        raise ValueError(
            f"{what} {value!r} is not a positive integer without leading zeros: "
            "the Janus VideoRoom plugin of this server uses numeric ids (string_ids = false)"
        )
    number = int(value)
    if number > JANUS_MAX_ID:
        raise ValueError(
            f"{what} {value!r} is larger than {JANUS_MAX_ID}, the largest numeric id Janus takes"
        )
    return number


RECORDER_DISPLAY_PREFIX = "cloudrec-recorder "
"""How a recorder names itself in a room. Other recorders in the channel (a second recording
of it, e.g. Mix and Individual side by side) are not users: they never count as someone in the
room, so recordings do not keep each other from leaving an idle channel."""


def recorder_display(uid: str) -> str:
    """The display name a recorder joins with."""
    return f"{RECORDER_DISPLAY_PREFIX}{uid}"


def is_recorder(display: object) -> bool:
    """Whether a participant's display name says it is a recorder."""
    return isinstance(display, str) and display.startswith(RECORDER_DISPLAY_PREFIX)


def publisher_join_request(
    room: str | int, uid: str | int, display: str, token: str | None
) -> dict[str, Any]:
    """The VideoRoom ``join`` body that enters ``room`` as publisher-type participant ``uid``.

    ``room`` and ``uid`` as :func:`janus_id` gives them; ``token`` is the
    room's ACL token, sent only when there is one.
    """
    body: dict[str, Any] = {
        "request": "join",
        "ptype": "publisher",
        "room": room,
        "id": uid,
        "display": display,
    }
    if token is not None:
        body["token"] = token
    return body


def _id(value: Any) -> str:
    """An id from a Janus message as a string (numbers from a numeric-id server too)."""
    return str(value)


def parse_publisher(entry: Mapping[str, Any]) -> PublisherInfo:
    """A :class:`PublisherInfo` from one entry of Janus' ``publishers`` list."""
    streams = tuple(
        StreamInfo(
            type=str(s.get("type", "")),
            mid=str(s.get("mid", "")),
            codec=s.get("codec"),
            simulcast=bool(s.get("simulcast", False)),
            disabled=bool(s.get("disabled", False)),
        )
        for s in entry.get("streams", [])
    )
    return PublisherInfo(uid=_id(entry["id"]), display=entry.get("display"), streams=streams)


@dataclass
class RoomState:
    """The room as one participant (``self_uid``) sees it; recorders (itself and others,
    :func:`is_recorder`) are not counted among the participants."""

    self_uid: str
    participants: set[str] = field(default_factory=set)
    publishers: dict[str, PublisherInfo] = field(default_factory=dict)
    closed: bool = False
    epoch: int = 0
    """Counts applied events; a listing requested at epoch E cannot undo a later change."""
    _touched: dict[str, int] = field(default_factory=dict)

    def _other(self, uid: str, entry: Mapping[str, Any]) -> bool:
        """Someone else than this recorder or another recorder."""
        return uid != self.self_uid and not is_recorder(entry.get("display"))

    def _touch(self, uid: str) -> None:
        self._touched[uid] = self.epoch

    def _snapshot(self) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset(self.participants), frozenset(self.publishers)

    def _changes(self, before: tuple[frozenset[str], frozenset[str]]) -> list[ChannelEvent]:
        after = self._snapshot()
        return [] if after == before else [ParticipantsChanged(*after)]

    def _add_publishers(self, entries: Iterable[Mapping[str, Any]]) -> list[ChannelEvent]:
        events: list[ChannelEvent] = []
        for entry in entries:
            info = parse_publisher(entry)
            if not self._other(info.uid, entry) or entry.get("dummy"):
                continue
            self._touch(info.uid)
            self.participants.add(info.uid)
            known = self.publishers.get(info.uid)
            self.publishers[info.uid] = info
            if known is None:
                events.append(PublisherJoined(info))
            elif known != info:
                events.append(PublisherUpdated(info))
        return events

    def _remove_publisher(self, uid: str) -> list[ChannelEvent]:
        self._touch(uid)
        if self.publishers.pop(uid, None) is None:
            return []
        return [PublisherLeft(uid)]

    def apply_joined(self, data: Mapping[str, Any]) -> list[ChannelEvent]:
        """Our own ``joined`` answer: the publishers (and attendees) already there."""
        self.epoch += 1
        before = self._snapshot()
        for attendee in data.get("attendees", []):
            uid = _id(attendee["id"])
            if self._other(uid, attendee):
                self._touch(uid)
                self.participants.add(uid)
        events = self._add_publishers(data.get("publishers", []))
        return events + self._changes(before)

    def apply_event(self, data: Mapping[str, Any]) -> list[ChannelEvent]:
        """One VideoRoom ``event`` (or ``destroyed``) pushed to our handle."""
        if self.closed:
            return []
        if data.get("videoroom") == "destroyed":
            return self._close("the room was destroyed")
        self.epoch += 1
        before = self._snapshot()
        events: list[ChannelEvent] = []
        if "publishers" in data:
            events += self._add_publishers(data["publishers"])
        if "joining" in data:
            uid = _id(data["joining"]["id"])
            if self._other(uid, data["joining"]):
                self._touch(uid)
                self.participants.add(uid)
        if "unpublished" in data:
            uid = _id(data["unpublished"])
            if data["unpublished"] != "ok":  # "ok" confirms our own unpublish
                events += self._remove_publisher(uid)
        for key in ("leaving", "kicked"):
            if key in data and data[key] != "ok":
                uid = _id(data[key])
                if uid == self.self_uid:
                    return self._close("we were kicked out of the room")
                events += self._remove_publisher(uid)
                self.participants.discard(uid)
        return events + self._changes(before)

    def apply_listing(
        self, entries: Iterable[Mapping[str, Any]], *, requested_at: int
    ) -> list[ChannelEvent]:
        """A ``listparticipants`` result, asked for when :attr:`epoch` was ``requested_at``.

        Publishers are only added from events (a listing has no stream details);
        a listing adds participants that do not publish and removes publishers and
        participants that are gone, except those an event changed since the request.
        """
        if self.closed:
            return []
        before = self._snapshot()
        present: set[str] = set()
        publishing: set[str] = set()
        for entry in entries:
            uid = _id(entry["id"])
            if not self._other(uid, entry):
                continue
            present.add(uid)
            if entry.get("publisher"):
                publishing.add(uid)

        def settled(uid: str) -> bool:
            return self._touched.get(uid, -1) <= requested_at

        events: list[ChannelEvent] = []
        for uid in sorted(set(self.publishers) - publishing):
            if settled(uid):
                events += self._remove_publisher(uid)
        for uid in present - self.participants:
            if settled(uid):
                self.participants.add(uid)
        for uid in self.participants - present - set(self.publishers):
            if settled(uid):
                self.participants.discard(uid)
        return events + self._changes(before)

    def close(self, reason: str) -> list[ChannelEvent]:
        """The session ended: everything is gone."""
        if self.closed:
            return []
        return self._close(reason)

    def _close(self, reason: str) -> list[ChannelEvent]:
        self.closed = True
        events: list[ChannelEvent] = [PublisherLeft(uid) for uid in sorted(self.publishers)]
        self.publishers.clear()
        self.participants.clear()
        events.append(ParticipantsChanged(frozenset(), frozenset()))
        events.append(ChannelClosed(reason))
        return events
