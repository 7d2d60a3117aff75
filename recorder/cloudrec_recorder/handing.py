"""The peer routes of a hand-over (handover.py), and the administrator's ``POST /drain``.

Under ``/v1/apps/{appid}/cloud_recording/handover/``, so :class:`~cloudrec_recorder.edge.Edge`
admits only credentials valid for the app id (the giver uses its own settings' credential):

* ``POST offer``: take the recording the :class:`~cloudrec_recorder.handover.Offer` describes
  (join the channel as the offer's new uid, record under the same sid and resource id);
* ``GET {sid}``: where the taking stands (:class:`~cloudrec_recorder.handover.TakerReport`);
* ``POST {sid}/marks``: the same, with the giver's newest packets of its tracks stored as
  received (:class:`~cloudrec_recorder.handover.GiverMarks`) and its layout and subscription
  when they changed;
* ``POST {sid}/done``: the giver delivered its files; here are its final playlists (the
  taker's files, held until now, go up from here on);
* ``DELETE {sid}``: the giver gave up; the taken recording stops without a word and
  delivers nothing (its files would overwrite the giver's).

``POST /drain`` (the credential of every app id) drains this replica as SIGTERM does, without
ending the process: every running recording is handed over or stopped, ``/readyz`` says 503.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from cloudrec_protocol.models import StartClientRequest
from cloudrec_recorder import errors
from cloudrec_recorder.events import RecordingEvents
from cloudrec_recorder.handover import GiverDone, GiverMarks, Offer, listed_segments
from cloudrec_recorder.later_changes import apply_changes
from cloudrec_recorder.ports import MediaParts, RecorderState, Recording, RecordMode
from cloudrec_recorder.recording import ChannelRecording
from cloudrec_recorder.recordingkey import RecordingKey
from cloudrec_recorder.redirects import Redirects
from cloudrec_recorder.restart import spool_apps
from cloudrec_recorder.sessions import Resource, Session
from cloudrec_recorder.storage.files import FileInfo as StoredFile
from cloudrec_recorder.taking import Taking

__all__ = ["Takings", "router"]

log = logging.getLogger(__name__)

HANDOVER = "/v1/apps/{appid}/cloud_recording/handover"


@dataclass
class Takings:
    """The recordings this replica is taking over, by app id and sid (a giver's calls under
    one app id never reach another app's), and the redirect table."""

    redirects: Redirects
    active: dict[RecordingKey, tuple[Taking, ChannelRecording]] = field(default_factory=dict)
    drains: set[asyncio.Task[None]] = field(default_factory=set)

    def get(self, appid: str, sid: str) -> tuple[Taking, MediaParts, ChannelRecording]:
        found = self.active.get(RecordingKey(appid, sid))
        if found is None or found[1].taking is None:
            raise errors.not_found()
        return found[0], found[1].media, found[1]


def _state(request: Request) -> RecorderState:
    state: RecorderState = request.app.state.recorder
    return state


def _takings(request: Request) -> Takings:
    takings: Takings = request.app.state.takings
    return takings


StateDep = Annotated[RecorderState, Depends(_state)]
TakingsDep = Annotated[Takings, Depends(_takings)]
router = APIRouter(include_in_schema=False)


@router.post(f"{HANDOVER}/offer")
async def offer(appid: str, body: Offer, state: StateDep, takings: TakingsDep) -> JSONResponse:
    settings = state.settings
    if not settings.handover.enabled:
        raise errors.invalid_parameter("handover: hand-over is disabled on this replica")
    if settings.app(appid) is None:
        raise errors.invalid_appid()
    mode = RecordMode(body.mode)
    if (mode is RecordMode.MIX) == bool(body.tracks):
        raise errors.invalid_parameter("tracks: an individual recording's outputs, only")
    if state.registry.draining:
        raise errors.draining()
    key = RecordingKey(appid, body.sid)
    if state.registry.holds(key) or key in takings.active:
        raise errors.already_started(body.resource_id, body.sid)
    if state.registry.clashes(key) or spool_apps(settings.spool_dir, body.sid) - {appid}:
        log.warning("Offer refused sid=%s app=%s: the sid is another app's here", body.sid, appid)
        raise errors.sid_of_another_app("sid")
    if state.registry.capacity(appid)[2] <= 0:
        raise errors.over_load(state.registry.max_active)
    try:
        request = StartClientRequest.model_validate(body.client_request)
    except ValueError:
        raise errors.invalid_parameter("clientRequest: not a valid start request") from None
    resource = Resource(
        resource_id=body.resource_id,
        appid=appid,
        cname=body.cname,
        uid=body.uid,
        acquired_at=time.monotonic(),
        expired_hour=body.expired_hour,
    )
    taking = Taking(
        body,
        here=settings.replica_id,
        margin=settings.handover.cut_margin_seconds,
        takeovers=body.takeovers,
        stalls=settings.handover.test_fault_taker_stalls,
    )
    events = RecordingEvents(
        state.sender, settings.callbacks_for(appid), body.cname, body.uid, body.sid
    )
    holder: list[Session[Recording]] = []

    def on_exit() -> None:
        takings.active.pop(key, None)
        if holder:
            state.registry.mark_exited(holder[0])
            state.metrics.recordings_active.set(state.registry.active_count())

    recording = state.factory(
        appid=appid,
        resource=resource,
        sid=body.sid,
        mode=mode,
        request=request,
        events=events,
        on_exit=on_exit,
        taking=taking,
    )
    assert isinstance(recording, ChannelRecording)
    if recording.taking is None:  # snapshots only
        raise errors.invalid_parameter("clientRequest: a recording without files is not moved")
    await recording.start()
    await apply_changes(recording, body.changes)  # before any frame: start() only spawned
    try:  # (another app's recording may have come under the sid while this one started)
        holder.append(state.registry.adopt(resource, mode.value, recording, body.sid))
    except errors.ApiError:
        taking.failed = True
        recording.events.mute()
        await recording.stop(wait_upload=False, wait_seconds=settings.sync_stop_timeout_seconds)
        raise
    takings.redirects.forget(key)  # taken back: held here again
    takings.active[key] = (taking, recording)
    state.metrics.recordings_active.set(state.registry.active_count())
    log.info("Taking over sid=%s from=%s uid=%s", body.sid, body.giver, body.taker_uid)
    _, media, _ = takings.get(appid, body.sid)
    return JSONResponse(taking.report(media).to_wire())


@router.get(HANDOVER + "/{sid}")
async def report(appid: str, sid: str, takings: TakingsDep) -> JSONResponse:
    taking, media, _ = takings.get(appid, sid)
    return JSONResponse(taking.report(media).to_wire())


@router.post(HANDOVER + "/{sid}/marks")
async def marks(appid: str, sid: str, body: GiverMarks, takings: TakingsDep) -> JSONResponse:
    """The giver's poll with its newest stored packets (an individual recording's tracks
    stored as received: the taker finds their shift) and its later changes, if any."""
    taking, media, recording = takings.get(appid, sid)
    if body.changes is not None:
        await apply_changes(recording, body.changes)
    if media.tracks is not None:
        taking.match(media.tracks, body)
    return JSONResponse(taking.report(media).to_wire())


@router.post(HANDOVER + "/{sid}/done")
async def done(
    appid: str, sid: str, body: GiverDone, state: StateDep, takings: TakingsDep
) -> JSONResponse:
    if state.settings.handover.test_fault_taker_forgets:  # test only: gone before the done
        await _discard(state, takings, appid, sid)
        raise errors.not_found()
    taking, media, recording = takings.get(appid, sid)
    given = [name for text in body.playlists.values() for name in listed_segments(text)]
    try:
        files = [StoredFile.from_payload(item) for item in body.files]
    except (KeyError, TypeError, ValueError):
        raise errors.invalid_parameter("files: not a fileList") from None
    if body.changes is not None:
        await apply_changes(recording, body.changes)
    recording.upload.uploader.delivered_elsewhere(given, body.objects, files)
    recording.upload.let_go()  # the sid's names are this replica's from now on
    taking.release(media, body, recording.events)
    recording.course.keep()  # the hand-overs so far, for a restart's manifest
    return JSONResponse(taking.report(media).to_wire())


@router.delete(HANDOVER + "/{sid}")
async def abandon(appid: str, sid: str, state: StateDep, takings: TakingsDep) -> JSONResponse:
    await _discard(state, takings, appid, sid)
    return JSONResponse({"status": "abandoned"})


async def _discard(state: RecorderState, takings: Takings, appid: str, sid: str) -> None:
    """The taken recording stops without a word and delivers nothing."""
    taking, _, recording = takings.get(appid, sid)
    taking.failed = True
    recording.events.mute()
    takings.active.pop(RecordingKey(appid, sid), None)
    await recording.stop(wait_upload=False, wait_seconds=state.settings.sync_stop_timeout_seconds)


@router.post("/drain", status_code=202)
async def drain(state: StateDep, takings: TakingsDep) -> JSONResponse:
    if not state.registry.draining:
        task = asyncio.create_task(state.drain())
        takings.drains.add(task)
        task.add_done_callback(takings.drains.discard)
    return JSONResponse({"status": "draining"}, status_code=202)
