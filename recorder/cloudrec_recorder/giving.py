"""The giving side of a hand-over: a draining replica passes a running recording on.

:class:`Giver` offers the recording to the ready peer with the most room (``capacity``), polls
the taker until it names the cut and has a complete segment from it, ends its own files at the
cut, leaves, delivers them, and hands the taker its final playlists. Any failure before the
giver leaves (no taker, a refused offer, the taker silent past ``handover.timeoutSeconds``)
tells the taker to give up and leaves the recording here to be stopped as before.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

import httpx

from cloudrec_recorder.handover import (
    GiverDone,
    Offer,
    PeerState,
    TakerReport,
    choose_taker,
    taker_uid,
)
from cloudrec_recorder.ports import Mixer, Recording
from cloudrec_recorder.recording import ChannelRecording
from cloudrec_recorder.redirects import Redirects
from cloudrec_recorder.sessions import Session
from cloudrec_recorder.settings import RecorderSettings

__all__ = ["POLL_SECONDS", "Giver", "HandoverFailedError"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
REQUEST_SECONDS = 10.0


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
        mixer = recording.media.mixer
        if mixer is None or mixer.origin_epoch_ms is None or recording.request is None:
            log.info("Not handed over sid=%s: only a mix recording with media moves", session.sid)
            return False
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
            origin_epoch_ms=mixer.origin_epoch_ms,
            first_frame_ms=recording.first_frame_ms or mixer.origin_epoch_ms,
            next_mp4_index=mixer.next_mp4_index(),
            takeovers=recording.taking.takeovers if recording.taking is not None else 0,
        )
        started = time.monotonic()
        try:
            await self._until_taken(base, offer, mixer, auth)
        except (HandoverFailedError, httpx.HTTPError) as exc:
            mixer.cut.end_at = math.inf
            log.warning("Hand-over failed sid=%s to=%s error=%s", session.sid, taker, exc)
            await self._abandon(base, session.sid, auth)
            return False
        session.stop_requested = True
        playlists = await recording.hand_off()
        uploader = recording.upload.uploader
        done = GiverDone(
            playlists=playlists,
            objects=list(uploader.manifest_objects()),
            files=[f.to_payload() for f in uploader.playable_files()],
        )
        answer = await self.client.post(
            f"{base}/{session.sid}/done", json=done.to_wire(), auth=auth, timeout=REQUEST_SECONDS
        )
        self.redirects.record(session.sid, taker)
        log.info(
            "Handed over sid=%s to=%s status=%s seconds=%.2f",
            session.sid,
            taker,
            answer.status_code,
            time.monotonic() - started,
        )
        return True

    async def _until_taken(
        self, base: str, offer: Offer, mixer: Mixer, auth: httpx.BasicAuth
    ) -> None:
        """Offer, then poll until the taker has a complete segment from the cut; the cut ends
        this replica's files as soon as it is known."""
        answer = await self.client.post(
            f"{base}/offer", json=offer.to_wire(), auth=auth, timeout=REQUEST_SECONDS * 3
        )
        if answer.status_code != 200:
            raise HandoverFailedError(f"offer refused with {answer.status_code}")
        deadline = time.monotonic() + self.settings.handover.timeout_seconds
        while True:
            polled = await self.client.get(
                f"{base}/{offer.sid}", auth=auth, timeout=REQUEST_SECONDS
            )
            if polled.status_code != 200:
                raise HandoverFailedError(f"taker answered {polled.status_code}")
            report = TakerReport.model_validate(polled.json())
            if report.failed:
                raise HandoverFailedError("the taker's recording failed")
            if report.cut is not None and mixer.cut.end_at != report.cut:
                mixer.cut.end_at = report.cut
            if report.cut is not None and report.first_segment:
                return
            if time.monotonic() > deadline:
                raise HandoverFailedError("the taker had no segment in time")
            await asyncio.sleep(POLL_SECONDS)

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
