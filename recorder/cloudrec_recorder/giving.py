"""The giving side of a hand-over: a draining replica passes a running recording on.

:class:`Giver` offers the recording to the ready peer with the most room (``capacity``), polls
the taker until it names the cut and has a complete segment from it, ends its own files at the
cut, leaves, delivers them, and hands the taker its final playlists (retried for up to
``handover.timeoutSeconds``: until the taker has them, its files are not delivered). Any failure
before the giver leaves (no taker, a refused offer, the taker silent past
``handover.timeoutSeconds``, a ``stop`` for the recording meanwhile) tells the taker to give up,
and the recording stays here with all its files (``end_at`` back to infinity first, so a stop
finishes them whole); the taker delivers nothing.

The layout and subscription in force go along (handover.py's ``Changes``): in the offer, in a
poll when they changed, in the done.

An individual recording's outputs each have their own clock (media/track_cuts.py): the giver
makes no new outputs from the offer on (a uid that starts later is the taker's alone), offers
each output's clock, and ends each at the cut the taker chose for it; while a track stored as
received has no cut, each poll carries its newest packets' digests (the taker's shift).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from http import HTTPStatus

import httpx

from cloudrec_recorder.handover import (
    Changes,
    GiverDone,
    GiverMarks,
    Offer,
    PeerState,
    TakerReport,
    TrackClock,
    choose_taker,
    taker_uid,
    tracks_taken,
)
from cloudrec_recorder.media.track_cuts import MARKS
from cloudrec_recorder.ports import MediaParts, Recording
from cloudrec_recorder.recording import ChannelRecording
from cloudrec_recorder.redirects import Redirects
from cloudrec_recorder.sessions import Session
from cloudrec_recorder.settings import RecorderSettings

__all__ = ["POLL_SECONDS", "Giver", "HandoverFailedError"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
REQUEST_SECONDS = 10.0


def _keep_all(media: MediaParts) -> None:
    """The hand-over is off: this replica's files go on past the cut (a mix's HLS with what
    it held back since the cut, media/cut.py)."""
    if media.mixer is not None:
        media.mixer.cut.end_at = math.inf
    if media.tracks is not None:
        media.tracks.track_cuts.thaw()


class HandoverFailedError(RuntimeError):
    """The hand-over did not happen; the message says why (no secrets)."""


def _base(appid: str) -> str:
    return f"/v1/apps/{appid}/cloud_recording"


class Giver:
    """Hands recordings to peers; ``client`` talks to them (the forwarding client)."""

    def __init__(
        self, settings: RecorderSettings, client: httpx.AsyncClient, redirects: Redirects
    ) -> None:
        self.settings = settings
        self.client = client
        self.redirects = redirects

    async def hand_over(self, session: Session[Recording]) -> bool:
        """Hand ``session`` to a peer; False (logged) when it stays here."""
        recording = session.recording
        if not self.settings.handover.enabled or not isinstance(recording, ChannelRecording):
            return False
        if recording.paused:
            # The taker would record from the cut on: it knows nothing of the pause, and a
            # paused recording has no media to agree on a cut with. It stays and is stopped.
            log.info("Not handed over sid=%s: the recording is paused", session.sid)
            return False
        refused = self._refusal(recording)
        if refused is not None:
            log.info("Not handed over sid=%s: %s", session.sid, refused)
            return False
        assert recording.request is not None
        media = recording.media
        mixer, tracks = media.mixer, media.tracks
        origin = mixer.origin_epoch_ms if mixer is not None else None
        appid = session.resource.appid
        auth = self._auth(appid)
        if auth is None:
            return False
        taker = await self._choose(appid, auth)
        if taker is None:
            log.warning("Not handed over sid=%s: no ready peer with room", session.sid)
            return False
        url = self.settings.peer_url(taker)
        assert url is not None
        base = url + _base(appid) + "/handover"
        clocks = (
            [TrackClock.of(c) for c in tracks.track_cuts.freeze()] if tracks is not None else []
        )
        first_frame_ms = recording.first_frame_ms or origin or 0
        offer = Offer(
            sid=session.sid,
            resource_id=session.resource.resource_id,
            cname=session.resource.cname,
            uid=session.resource.uid,
            mode=session.mode,
            client_request=recording.request.to_wire(),
            expired_hour=session.resource.expired_hour,
            giver=self.settings.replica_id,
            taker_uid=taker_uid(),
            origin_epoch_ms=origin if origin is not None else first_frame_ms,
            first_frame_ms=first_frame_ms,
            next_mp4_index=mixer.next_mp4_index() if mixer is not None else 0,
            tracks=clocks,
            takeovers=recording.taking.takeovers if recording.taking is not None else 0,
            changes=Changes.of(recording.layout, recording.subscribe),
        )
        started = time.monotonic()
        recording.on_stop = lambda: _keep_all(media)  # a stop now ends the hand-over first
        if mixer is not None:
            mixer.cut.keep_past_end = True  # nothing past the cut is lost if the taker fails
        try:
            await self._until_taken(base, offer, recording, auth, session)
        except (HandoverFailedError, httpx.HTTPError) as exc:
            _keep_all(media)
            log.warning("Hand-over failed sid=%s to=%s error=%s", session.sid, taker, exc)
            await self._abandon(base, session.sid, auth)
            return False
        finally:
            recording.on_stop = lambda: None
        session.stop_requested = True
        playlists = await recording.hand_off()
        uploader = recording.upload.uploader
        done = GiverDone(
            playlists=playlists,
            objects=list(uploader.manifest_objects()),
            files=[f.to_payload() for f in uploader.playable_files()],
            timeline=recording.course.passed_on(),
            changes=Changes.of(recording.layout, recording.subscribe),
        )
        status = await self._done(f"{base}/{session.sid}/done", done, auth)
        if status == HTTPStatus.NOT_FOUND:
            self._lost(recording, session, taker)
            return True
        self.redirects.record(session.recording_key, taker)
        log.info(
            "Handed over sid=%s to=%s status=%s seconds=%.2f",
            session.sid,
            taker,
            status,
            time.monotonic() - started,
        )
        return True

    @staticmethod
    def _lost(recording: ChannelRecording, session: Session[Recording], taker: str) -> None:
        """The taker answered the done ``404``: it gave the recording up after the cut (it was
        told to, or its recording ended), and this replica has left: the recording ended. No
        redirect (nothing holds it there); the protocol's exit event, abnormal, so whoever
        started it sees it end."""
        log.error(
            "Hand-over lost sid=%s to=%s: the taker no longer has it; the recording ended",
            session.sid,
            taker,
        )
        recording.events.unmute()
        recording.events.session_exit(abnormal=True)

    async def _done(self, url: str, done: GiverDone, auth: httpx.BasicAuth) -> int | None:
        """Give the taker the final playlists, again while it does not answer (its files go
        up only once it has them); its last answer's status, None if it never answered."""
        deadline = time.monotonic() + self.settings.handover.timeout_seconds
        status: int | None = None
        while True:
            try:
                answer = await self.client.post(
                    url, json=done.to_wire(), auth=auth, timeout=REQUEST_SECONDS
                )
                status = answer.status_code
                if status < 500:
                    return status
            except httpx.HTTPError as exc:
                log.warning("The taker did not take the final playlists (%s); again", exc)
            if time.monotonic() > deadline:
                log.error("The taker never took the final playlists: its part is not delivered")
                return status
            await asyncio.sleep(POLL_SECONDS)

    @staticmethod
    def _refusal(recording: ChannelRecording) -> str | None:
        """Why ``recording`` cannot move (None: it can)."""
        mixer, tracks = recording.media.mixer, recording.media.tracks
        if recording.request is None or recording.first_frame_ms is None:
            return "the recording has no media yet"
        if mixer is not None:
            return None if mixer.origin_epoch_ms is not None else "the mix has not started"
        if tracks is None:
            return "a recording of snapshots only"
        return None

    async def _until_taken(
        self,
        base: str,
        offer: Offer,
        recording: ChannelRecording,
        auth: httpx.BasicAuth,
        session: Session[Recording],
    ) -> None:
        """Offer, then poll until the taker has a complete segment from the cut; the cut ends
        this replica's files as soon as it is known. A stop asked for meanwhile ends it. A
        poll carries the layout and subscription when they changed since the taker had them."""
        media = recording.media
        sent = offer.changes
        answer = await self.client.post(
            f"{base}/offer", json=offer.to_wire(), auth=auth, timeout=REQUEST_SECONDS * 3
        )
        if answer.status_code != 200:
            raise HandoverFailedError(f"offer refused with {answer.status_code}")
        deadline = time.monotonic() + self.settings.handover.timeout_seconds
        while True:
            if session.stop_requested:
                raise HandoverFailedError("the recording was stopped during the hand-over")
            now = Changes.of(recording.layout, recording.subscribe)
            polled = await self._poll(base, offer, media, auth, now if now != sent else None)
            if polled.status_code != 200:
                raise HandoverFailedError(f"taker answered {polled.status_code}")
            sent = now
            report = TakerReport.model_validate(polled.json())
            if report.failed:
                raise HandoverFailedError("the taker's recording failed")
            if self._cut(media, offer, report):
                return
            if time.monotonic() > deadline:
                raise HandoverFailedError("the taker had no segment in time")
            await asyncio.sleep(POLL_SECONDS)

    async def _poll(
        self,
        base: str,
        offer: Offer,
        media: MediaParts,
        auth: httpx.BasicAuth,
        changes: Changes | None,
    ) -> httpx.Response:
        """Ask the taker where it is; with the newest packets of the tracks stored as
        received while it has no cut for one of them, and ``changes`` (if any)."""
        stored = [c.playlist for c in offer.tracks if c.copied and not c.idle]
        tracks = media.tracks
        if changes is None and (tracks is None or not stored):
            return await self.client.get(f"{base}/{offer.sid}", auth=auth, timeout=REQUEST_SECONDS)
        marks = (
            {name: tracks.track_cuts.marks(name, MARKS) for name in stored}
            if tracks is not None
            else {}
        )
        given = GiverMarks(marks=marks, changes=changes)
        return await self.client.post(
            f"{base}/{offer.sid}/marks", json=given.to_wire(), auth=auth, timeout=REQUEST_SECONDS
        )

    @staticmethod
    def _cut(media: MediaParts, offer: Offer, report: TakerReport) -> bool:
        """End this replica's files at the taker's cuts; True once the taker has a complete
        segment from each."""
        if media.mixer is not None:
            if report.cut is not None and media.mixer.cut.end_at != report.cut:
                media.mixer.cut.end_at = report.cut
            return report.cut is not None and report.first_segment
        if media.tracks is not None:
            media.tracks.track_cuts.end_at(report.cuts)
        return tracks_taken(offer.tracks, report)

    async def _abandon(self, base: str, sid: str, auth: httpx.BasicAuth) -> None:
        try:
            await self.client.delete(f"{base}/{sid}", auth=auth, timeout=REQUEST_SECONDS)
        except httpx.HTTPError as exc:
            log.warning("Could not tell the taker to give up sid=%s error=%s", sid, exc)

    def _auth(self, appid: str) -> httpx.BasicAuth | None:
        credential = self.settings.credential_for(appid)
        if credential is None:
            log.warning("Not handed over: no credential for app id %s", appid)
            return None
        return httpx.BasicAuth(*credential)

    async def _choose(self, appid: str, auth: httpx.BasicAuth) -> str | None:
        async def ask(replica: str) -> PeerState:
            url = self.settings.peer_url(replica)
            if url is None:
                return PeerState(replica, ready=False, available=0)
            try:
                answer = await self.client.get(
                    f"{url}{_base(appid)}/capacity", auth=auth, timeout=REQUEST_SECONDS / 2
                )
            except httpx.HTTPError:
                return PeerState(replica, ready=False, available=0)
            if answer.status_code != 200:
                return PeerState(replica, ready=False, available=0)
            return PeerState(replica, ready=True, available=int(answer.json()["available"]))

        peers = await asyncio.gather(*(ask(r) for r in self.settings.handover_replicas()))
        return choose_taker(peers)
