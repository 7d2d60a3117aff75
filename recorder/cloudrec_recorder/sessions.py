"""The registry of resource ids and recording sessions, and the protocol's rules about them.

Pure bookkeeping with an injected clock (no I/O), so every rule is unit-tested:

* ``acquire`` issues an opaque, URL-safe resource id that names this replica (a
  multi-replica deployment reads it back with :func:`replica_of` to forward requests);
* a resource id is single use and valid ``resource_ttl`` seconds before start (``433``);
  its appid/cname/uid must match at start (``432``); a second start is ``201``/``7``;
* appid + cname + uid identify one live task (``53``); at most ``max_active`` tasks
  run at once (``406``), counting resource ids reserved but not yet started and starts
  still joining the channel;
* a started session answers query/update/stop until ``resourceExpiredHour`` after its
  start, then ``404``; an exited session stays queryable (status 8/20, stop ``49``) for
  ``exited_retention`` seconds, then it is forgotten (``404``);
* while draining, acquire and start answer ``503``/``501``;
* sessions are keyed by app id and sid (:class:`~cloudrec_recorder.recordingkey.RecordingKey`):
  a request under one app id never finds another app's session, and a sid another app's
  session has here (running or still queryable) is not registered again under this one.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from cloudrec_recorder import errors
from cloudrec_recorder.recordingkey import RecordingKey, clash

T = TypeVar("T")

_SEPARATOR = b"."
_REPLICA = re.compile(rb"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def new_resource_id(replica_id: str) -> str:
    """An opaque URL-safe id: base64url of the replica name and 48 random bytes."""
    raw = replica_id.encode() + _SEPARATOR + secrets.token_bytes(48)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def replica_of(resource_id: str) -> str | None:
    """The replica that issued ``resource_id``, or None if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(resource_id + "=" * (-len(resource_id) % 4))
    except (binascii.Error, ValueError):
        return None
    replica, sep, rest = raw.partition(_SEPARATOR)
    if not sep or len(rest) != 48 or _REPLICA.fullmatch(replica) is None:
        return None
    return replica.decode()


def new_sid() -> str:
    """A recording session id (32 lowercase hex digits)."""
    return uuid.uuid4().hex


@dataclass
class Resource:
    """What ``acquire`` handed out."""

    resource_id: str
    appid: str
    cname: str
    uid: str
    acquired_at: float
    expired_hour: int
    start_parameter: dict[str, object] | None = None
    started: bool = False


@dataclass
class Session(Generic[T]):
    """A started task: its resource, sid, mode and the recording that does the work."""

    resource: Resource
    sid: str
    mode: str
    started_at: float
    recording: T
    stop_requested: bool = False
    exited_at: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.resource.appid, self.resource.cname, self.resource.uid)

    @property
    def recording_key(self) -> RecordingKey:
        """The app id and sid that name this session in requests and peer messages."""
        return RecordingKey(self.resource.appid, self.sid)

    @property
    def deadline(self) -> float:
        """After this instant query/update/stop answer 404 (resourceExpiredHour)."""
        return self.started_at + self.resource.expired_hour * 3600.0


@dataclass
class SessionRegistry(Generic[T]):
    """Resource ids and sessions of one recorder process."""

    replica_id: str = "r0"
    max_active: int = 8
    resource_ttl: float = 300.0
    exited_retention: float = 600.0
    clock: Callable[[], float] = time.monotonic
    draining: bool = False
    _resources: dict[str, Resource] = field(default_factory=dict)
    _sessions: dict[RecordingKey, Session[T]] = field(default_factory=dict)

    # ---------------------------------------------------------------- acquire / start

    def acquire(
        self,
        appid: str,
        cname: str,
        uid: str,
        expired_hour: int = 72,
        start_parameter: dict[str, object] | None = None,
        app_limit: int | None = None,
    ) -> Resource:
        """A new resource id; ``app_limit`` caps this app's recordings and pending ids."""
        self._collect()
        if self.draining:
            raise errors.draining()
        if self._held_count() >= self.max_active:
            raise errors.over_load(self.max_active)
        if app_limit is not None and self._app_count(appid) >= app_limit:
            raise errors.app_over_load(appid, app_limit)
        resource = Resource(
            resource_id=new_resource_id(self.replica_id),
            appid=appid,
            cname=cname,
            uid=uid,
            acquired_at=self.clock(),
            expired_hour=expired_hour,
            start_parameter=start_parameter,
        )
        self._resources[resource.resource_id] = resource
        return resource

    def resource(self, resource_id: str) -> Resource | None:
        """The resource ``resource_id`` names, if it is still known (nothing changes)."""
        return self._resources.get(resource_id)

    def claim(self, resource_id: str, appid: str, cname: str, uid: str) -> Resource:
        """Check that ``start`` may use ``resource_id`` and mark it used."""
        self._collect()
        resource = self._resources.get(resource_id)
        if resource is None:
            if replica_of(resource_id) is None:
                raise errors.resource_unparsable()
            # Ours (or a peer's) but forgotten: it expired long ago.
            raise errors.resource_expired()
        for what, expected, got in (
            ("appid", resource.appid, appid),
            ("cname", resource.cname, cname),
            ("uid", resource.uid, uid),
        ):
            if expected != got:
                raise errors.resource_mismatch(what)
        if resource.started:
            sid = next((s.sid for s in self._sessions.values() if s.resource is resource), None)
            raise errors.already_started(resource.resource_id, sid)
        if self.draining:
            raise errors.draining()
        if self.clock() - resource.acquired_at > self.resource_ttl:
            raise errors.resource_expired()
        if self._live_session_for((appid, cname, uid)) is not None:
            raise errors.task_conflict(cname, uid)
        if self.active_count() + self._starting() >= self.max_active:
            raise errors.over_load(self.max_active)
        resource.started = True
        return resource

    def unclaim(self, resource: Resource) -> None:
        """``start`` failed before a session existed: the resource id may be used again."""
        resource.started = False

    def register(
        self, resource: Resource, mode: str, recording: T, sid: str | None = None
    ) -> Session[T]:
        """A started session; ``400``/``2`` if ``sid`` is another app's session here (the
        callers check :meth:`clashes` before they start anything)."""
        session = Session(
            resource=resource,
            sid=sid or new_sid(),
            mode=mode,
            started_at=self.clock(),
            recording=recording,
        )
        if self.clashes(session.recording_key):
            raise errors.sid_of_another_app("sid")
        self._sessions[session.recording_key] = session
        return session

    def adopt(self, resource: Resource, mode: str, recording: T, sid: str) -> Session[T]:
        """A recording taken over from another replica: its resource id and sid go on."""
        resource.started = True
        self._resources[resource.resource_id] = resource
        return self.register(resource, mode, recording, sid=sid)

    def holds(self, key: RecordingKey) -> bool:
        """``key`` runs here (not exited, not handed over)."""
        session = self._sessions.get(key)
        return session is not None and session.exited_at is None and not session.stop_requested

    def clashes(self, key: RecordingKey) -> list[str]:
        """The other app ids whose sessions here (any, until forgotten) have ``key.sid``."""
        self._collect()
        return clash(key, (k.appid for k in self._sessions if k.sid == key.sid))

    # ---------------------------------------------------------------- lookups

    def lookup(self, appid: str, resource_id: str, sid: str, mode: str) -> Session[T]:
        """The session query/update/updateLayout/stop address, or 404."""
        self._collect()
        session = self._sessions.get(RecordingKey(appid, sid))
        if (
            session is None
            or session.resource.resource_id != resource_id
            or session.mode != mode
            or self.clock() > session.deadline
        ):
            raise errors.not_found()
        return session

    def mark_exited(self, session: Session[T]) -> None:
        if session.exited_at is None:
            session.exited_at = self.clock()

    def sessions(self) -> Iterator[Session[T]]:
        return iter(list(self._sessions.values()))

    def live_sessions(self) -> list[Session[T]]:
        return [s for s in self._sessions.values() if s.exited_at is None]

    def active_count(self) -> int:
        return sum(1 for s in self._sessions.values() if s.exited_at is None)

    def capacity(self, appid: str, app_limit: int | None = None) -> tuple[int, int, int]:
        """(active, pending, available): how many more ``acquire`` calls for ``appid`` would
        be given a resource id now (the answer of our ``capacity`` extension)."""
        self._collect()
        active, pending = self.active_count(), self._pending_count()
        available = 0 if self.draining else max(0, self.max_active - self._held_count())
        if app_limit is not None:
            available = min(available, max(0, app_limit - self._app_count(appid)))
        return active, pending, available

    def _starting(self, appid: str | None = None) -> int:
        """Resource ids (of ``appid``, or any) claimed by a ``start`` that has not registered
        its session yet (the recorder is joining the channel): they hold their place as a
        recording does."""
        registered = {id(s.resource) for s in self._sessions.values()}
        return sum(
            1
            for r in self._resources.values()
            if r.started and id(r) not in registered and appid in (None, r.appid)
        )

    def _held_count(self) -> int:
        """Places taken: running recordings, starts under way, unstarted resource ids."""
        return self.active_count() + self._starting() + self._pending_count()

    def _pending_count(self) -> int:
        now = self.clock()
        return sum(
            1
            for r in self._resources.values()
            if not r.started and now - r.acquired_at <= self.resource_ttl
        )

    def _app_count(self, appid: str) -> int:
        """This app's live recordings, starts under way and resource ids waiting for
        ``start``."""
        now = self.clock()
        live = sum(1 for s in self._sessions.values() if s.exited_at is None and s.key[0] == appid)
        starting = self._starting(appid)
        pending = sum(
            1
            for r in self._resources.values()
            if r.appid == appid and not r.started and now - r.acquired_at <= self.resource_ttl
        )
        return live + starting + pending

    def _live_session_for(self, key: tuple[str, str, str]) -> Session[T] | None:
        return next((s for s in self.live_sessions() if s.key == key), None)

    def _collect(self) -> None:
        """Forget resources long expired and sessions past their retention."""
        now = self.clock()
        keep_resource = 12 * self.resource_ttl
        for rid, resource in list(self._resources.items()):
            if not resource.started and now - resource.acquired_at > keep_resource:
                del self._resources[rid]
        for key, session in list(self._sessions.items()):
            gone = now > session.deadline or (
                session.exited_at is not None and now - session.exited_at > self.exited_retention
            )
            if gone:
                del self._sessions[key]
                self._resources.pop(session.resource.resource_id, None)
