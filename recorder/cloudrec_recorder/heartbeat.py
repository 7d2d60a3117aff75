"""Beats between the replicas: who is alive, what each records, who takes a lost one's work.

:class:`Heartbeat` runs with the app when ``handover.enabled`` and
``handover.takeover.enabled``. Every ``heartbeatSeconds`` (and as soon as a recording's
segment completes) it posts a :class:`~cloudrec_recorder.takeover.Beat` per app id to every
peer (``POST /v1/apps/{appid}/cloud_recording/takeover/beat``, the app id's credential, as a
hand-over's peer calls) and reads the peer's own beat from the answer. From what it hears:

* a peer with recordings not heard from for ``deadAfterSeconds`` is lost; the first live
  replica after it in ring order (:func:`~cloudrec_recorder.takeover.successor`) takes each
  of its recordings that no live replica holds (:func:`~cloudrec_recorder.takingover.take_over`);
* requests for a sid go to the replica that holds it (:class:`Routes`, with the hand-over's
  redirects);
* a sid held here that a peer holds after more take-overs is given up at once, silently
  (:func:`~cloudrec_recorder.takeover.fenced`): this replica was thought lost (SIGSTOP, a
  partition) and must not go on writing. A round that comes more than ``deadAfterSeconds``
  after the one before (this process was stopped) first ends every recording's files (each
  output's, in an individual recording) at the time of that earlier round, and lets them go
  on only if no peer took them.

What a beat says counts for its app id only (:mod:`~cloudrec_recorder.peerview`): the app's
tenant holds the same credential and must not move another app's recordings. Recordings are
named by app id and sid (:class:`~cloudrec_recorder.recordingkey.RecordingKey`) in every
table here; a beat whose record offers a sid another app's recording has on this replica is
refused (``400``/``2``, the reason named, logged without the record).

The records hold start requests (storage keys): they live in this process's memory only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
from collections.abc import Iterator, Mapping
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from cloudrec_recorder import errors
from cloudrec_recorder.peerview import PeerView
from cloudrec_recorder.ports import RecorderState, Recording
from cloudrec_recorder.recording import ChannelRecording
from cloudrec_recorder.recordingkey import RecordingKey, clash
from cloudrec_recorder.redirects import Redirects
from cloudrec_recorder.sessions import Session
from cloudrec_recorder.standby import Records
from cloudrec_recorder.takeover import Beat, Held, Standby, fenced, successor
from cloudrec_recorder.takingover import take_over

__all__ = ["BEAT", "Heartbeat", "Routes", "router"]

log = logging.getLogger(__name__)

BEAT = "/v1/apps/{appid}/cloud_recording/takeover/beat"


class Heartbeat:
    """See the module docstring."""

    def __init__(
        self,
        state: RecorderState,
        client: httpx.AsyncClient,
        redirects: Redirects,
    ) -> None:
        self.state = state
        self.settings = state.settings
        self.client = client
        self.redirects = redirects
        self.boot = secrets.token_hex(8)
        self.peers = PeerView(self.settings.replica_id)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._taking: set[RecordingKey] = set()
        self._failed: set[RecordingKey] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._records = Records()
        self._quiet_until = 0.0
        self._heard = asyncio.Event()
        self.rounds = 0

    # ---------------------------------------------------------------- what this replica says

    @property
    def _config(self) -> tuple[float, float]:
        t = self.settings.handover.takeover
        return t.heartbeat_seconds, t.dead_after_seconds

    def _mine(self) -> list[tuple[Session[Recording], ChannelRecording, int]]:
        """(session, recording, take-overs) of every recording running here."""
        out = []
        for session in self.state.registry.live_sessions():
            recording = session.recording
            if session.stop_requested or not isinstance(recording, ChannelRecording):
                continue
            taking = recording.taking
            if taking is not None and not taking.released.is_set():
                continue  # still being handed over to this replica: the giver holds it
            takeovers = taking.takeovers if taking is not None else 0
            recording.on_segment = self.poke  # a new segment end is told at once
            out.append((session, recording, takeovers))
        return out

    def beat(self, appid: str) -> Beat:
        """What this replica tells its peers about ``appid``."""
        mine = self._mine()
        records = [
            record
            for session, recording, takeovers in mine
            if session.resource.appid == appid
            and (record := self._records.standby(session, recording, takeovers)) is not None
        ]
        held = [
            Held(sid=recording.sid, takeovers=count)
            for session, recording, count in mine
            if session.resource.appid == appid
        ]
        return Beat(
            replica=self.settings.replica_id,
            boot=self.boot,
            ready=not self.state.registry.draining,
            recordings=records,
            held=held,
        )

    def poke(self) -> None:
        """From any thread: beat now (a segment completed)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # ---------------------------------------------------------------- what peers say

    def heard(self, appid: str, beat: Beat) -> None:
        """A peer's beat (posted to this replica, or its answer to this replica's): it counts
        for ``appid``'s recordings only (:mod:`~cloudrec_recorder.peerview`)."""
        self.peers.heard(appid, beat, time.monotonic())
        self._fence(appid)

    def refuse_clashes(self, appid: str, beat: Beat) -> None:
        """``400``/``2`` for a beat of ``appid`` whose record offers a sid another app's
        recording has here: nothing of it is kept (a tenant's forgery; peers never send it)."""
        for record in beat.recordings:
            if self.state.registry.clashes(RecordingKey(appid, record.sid)):
                log.warning(
                    "Beat refused app=%s replica=%s: its record offers sid=%s, another app's here",
                    appid,
                    beat.replica,
                    record.sid,
                )
                raise errors.sid_of_another_app("recordings")

    def holders(self, appid: str) -> dict[str, str]:
        """sid of ``appid`` -> the live peer that holds it."""
        _, dead_after = self._config
        return self.peers.holders(appid, time.monotonic(), dead_after)

    def _fence(self, appid: str) -> None:
        mine = {
            session.sid: count
            for session, _, count in self._mine()
            if session.resource.appid == appid
        }
        if not mine:
            return
        _, dead_after = self._config
        theirs = self.peers.held(appid, time.monotonic(), dead_after)
        for sid, holder in fenced(self.settings.replica_id, mine, theirs).items():
            self._give_up(RecordingKey(appid, sid), holder)

    def _give_up(self, key: RecordingKey, holder: str) -> None:
        found = [s for s, _, _ in self._mine() if s.recording_key == key]
        if not found:
            return
        session, sid = found[0], key.sid
        log.warning("Fenced sid=%s: replica %s took it over; stopping here", sid, holder)
        session.stop_requested = True
        self.redirects.record(key, holder)
        recording = session.recording
        if isinstance(recording, ChannelRecording):
            recording.events.mute()
        self._spawn(self._stop(session.recording, sid))

    async def _stop(self, recording: object, sid: str) -> None:
        assert isinstance(recording, ChannelRecording)
        try:
            await recording.stop(wait_upload=False, wait_seconds=1.0)
        except Exception as exc:
            log.warning("Fenced sid=%s did not stop cleanly: %s", sid, exc)

    def _spawn(self, coro: object) -> None:
        assert asyncio.iscoroutine(coro)
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- the loop

    async def run(self) -> None:
        """Beat, listen, take over; until cancelled."""
        self._loop = asyncio.get_running_loop()
        interval, dead_after = self._config
        last_round, last_wall = time.monotonic(), time.time()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()
            now = time.monotonic()
            suspect = now - last_round >= dead_after
            if suspect:  # this process stood still: peers may have taken its work
                log.warning("No beat for %.1fs: files held till peers answer", now - last_round)
                self._hold_files(last_wall)
                self._quiet_until = now + dead_after  # everyone looks lost: hear them first
            await self._send_all()
            if suspect:
                self._release_files()
            self._take_over_lost()
            self.rounds += 1
            if self.rounds >= 2:
                self._heard.set()
            last_round, last_wall = time.monotonic(), time.time()

    def _hold_files(self, wall: float) -> None:
        for _, recording, _ in self._mine():
            mixer, tracks = recording.media.mixer, recording.media.tracks
            if mixer is not None and mixer.origin_epoch_ms is not None:
                mixer.cut.end_at = wall - mixer.origin_epoch_ms / 1000
            elif tracks is not None:  # each output on its own clock
                clocks = tracks.track_cuts.clocks()
                tracks.track_cuts.end_at(
                    {c.playlist: wall - c.origin_epoch_ms / 1000 for c in clocks}
                )

    def _release_files(self) -> None:
        for _, recording, _ in self._mine():  # not fenced: they go on
            mixer, tracks = recording.media.mixer, recording.media.tracks
            if mixer is not None:
                mixer.cut.end_at = math.inf
            elif tracks is not None:
                tracks.track_cuts.end_at({c.playlist: math.inf for c in tracks.track_cuts.clocks()})

    async def _send_all(self) -> None:
        calls = []
        for replica in self.settings.handover_replicas():
            url = self.settings.peer_url(replica)
            if url is None:
                continue
            for appid in self.settings.apps:
                calls.append(self._send(url, appid))
        await asyncio.gather(*calls)

    async def _send(self, url: str, appid: str) -> None:
        credential = self.settings.credential_for(appid)
        if credential is None:
            return
        interval, _ = self._config
        try:
            answer = await self.client.post(
                url + BEAT.format(appid=appid),
                json=self.beat(appid).to_wire(),
                auth=httpx.BasicAuth(*credential),
                timeout=max(0.5, interval),
            )
        except httpx.HTTPError:
            return
        if answer.status_code == 200:
            with contextlib.suppress(ValueError):
                self.heard(appid, Beat.model_validate(answer.json()))

    def _take_over_lost(self) -> None:
        now = time.monotonic()
        if self.state.registry.draining or now < self._quiet_until:
            return
        _, dead_after = self._config
        lost = self.peers.lost(now, dead_after)
        if not lost:
            return
        here = self.settings.replica_id
        ring = list(dict.fromkeys([*self.settings.handover.replicas, *self.settings.peers]))
        for (appid, name), records in lost.items():
            alive = [here, *self.peers.ready(appid, now, dead_after)]
            if successor(name, ring, alive, here) != here:
                continue
            log.warning("Replica %s lost: taking its recordings of app %s over", name, appid)
            held = self.holders(appid)
            for record in records:
                key = RecordingKey(appid, record.sid)
                if record.sid in held or key in self._taking or key in self._failed:
                    continue
                if self.state.registry.holds(key):
                    continue
                if clash(key, self.peers.apps_holding(record.sid, now, dead_after)):
                    log.warning(
                        "Not taken over sid=%s app=%s from=%s: another app's recording runs "
                        "under the sid on a live peer",
                        record.sid,
                        appid,
                        name,
                    )
                    self._failed.add(key)
                    continue
                self._taking.add(key)
                self._spawn(self._take(key, record, name))

    async def _take(self, key: RecordingKey, record: Standby, lost: str) -> None:
        try:
            if not await take_over(self.state, key.appid, record, lost):
                self._failed.add(key)
        finally:
            self._taking.discard(key)

    async def farewell(self) -> None:
        """A last beat (nothing held: this replica is leaving, nothing to take over)."""
        self.state.registry.draining = True
        await self._send_all()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def holder_of(self, appid: str, sid: str) -> str | None:
        """The peer holding ``appid``'s ``sid`` once every peer had time to beat (a restarted
        replica asks before it reports a recovered recording as ended)."""
        interval, dead_after = self._config
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._heard.wait(), dead_after + interval)
        return self.holders(appid).get(sid)


class Routes(Mapping[str, str]):
    """Where requests of ``appid`` for a sid go: the live holder that app id's beats name,
    else the hand-over redirects."""

    def __init__(self, redirects: Redirects, heartbeat: Heartbeat | None, appid: str) -> None:
        self.redirects = redirects
        self.heartbeat = heartbeat
        self.appid = appid

    def _table(self) -> dict[str, str]:
        held = self.heartbeat.holders(self.appid) if self.heartbeat is not None else {}
        return {**self.redirects.of_app(self.appid), **held}

    def __getitem__(self, sid: str) -> str:
        return self._table()[sid]

    def get(self, sid: str, default: str | None = None) -> str | None:  # type: ignore[override]
        if self.heartbeat is not None:
            found = self.heartbeat.holders(self.appid).get(sid)
            if found is not None:
                return found
        went = self.redirects.where(RecordingKey(self.appid, sid))
        return default if went is None else went

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


def _heartbeat(request: Request) -> Heartbeat:
    heartbeat: Heartbeat | None = request.app.state.heartbeat
    if heartbeat is None:
        raise errors.invalid_parameter("takeover: take-over is disabled on this replica")
    return heartbeat


HeartbeatDep = Annotated[Heartbeat, Depends(_heartbeat)]
router = APIRouter(include_in_schema=False)


@router.post(BEAT)
async def beat(appid: str, body: Beat, heartbeat: HeartbeatDep) -> JSONResponse:
    if heartbeat.settings.app(appid) is None:
        raise errors.invalid_appid()
    heartbeat.refuse_clashes(appid, body)
    heartbeat.heard(appid, body)
    return JSONResponse(heartbeat.beat(appid).to_wire())
