"""What this replica heard from its peers' beats, app id by app id (pure: no I/O, no clock).

A beat comes in under one app id's credential (``/v1/apps/{appid}/.../takeover/beat``), and
that app's tenant holds the credential as well as the peers. So whatever a beat says counts
for that app id only: the peer's liveness and readiness, the recordings it offers for a
take-over, the sids it holds (for fencing and routing). Beats forged with one tenant's
credential can at worst move that tenant's own recordings; no other app id's recording is
fenced, routed elsewhere, taken over or kept from a take-over by them (docs/security.md).

Peers beat every app id they serve, so each app id's view holds every live peer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cloudrec_recorder.takeover import Beat, Standby, dead_replicas

__all__ = ["PeerState", "PeerView"]


@dataclass
class PeerState:
    """One peer as one app id's beats tell it."""

    boot: str
    last_seen: float
    ready: bool
    records: list[Standby] = field(default_factory=list)
    """The app id's recordings it runs, as a taker needs them."""
    held: dict[str, int] = field(default_factory=dict)
    """The app id's sids it holds -> take-overs."""


class PeerView:
    """See the module docstring. Times are the caller's monotonic clock."""

    def __init__(self, here: str) -> None:
        self.here = here
        self._peers: dict[tuple[str, str], PeerState] = {}
        """(app id, replica) -> what that app id's beats said last."""
        self._orphans: dict[tuple[str, str], list[Standby]] = {}
        """Records of a peer that came back as a new process before it was found lost."""

    def heard(self, appid: str, beat: Beat, now: float) -> None:
        """A peer's beat about ``appid`` (posted here, or its answer to this replica's)."""
        if beat.replica == self.here:
            return
        key = (appid, beat.replica)
        peer = self._peers.get(key)
        if peer is None or peer.boot != beat.boot:
            if peer is not None and peer.records:
                self._orphans[key] = peer.records  # it restarted: they are lost
            peer = PeerState(beat.boot, now, beat.ready)
            self._peers[key] = peer
        peer.last_seen, peer.ready = now, beat.ready
        peer.records = list(beat.recordings)
        peer.held = {h.sid: h.takeovers for h in beat.held}

    def apps(self) -> list[str]:
        """App ids some peer beat about."""
        return sorted({appid for appid, _ in self._peers})

    def live(self, appid: str, now: float, dead_after: float) -> dict[str, PeerState]:
        """``appid``'s view of the peers heard from within ``dead_after`` seconds."""
        return {
            replica: peer
            for (app, replica), peer in self._peers.items()
            if app == appid and now - peer.last_seen < dead_after
        }

    def ready(self, appid: str, now: float, dead_after: float) -> list[str]:
        """Live peers that take work, in ``appid``'s view."""
        return [name for name, peer in self.live(appid, now, dead_after).items() if peer.ready]

    def held(self, appid: str, now: float, dead_after: float) -> dict[str, dict[str, int]]:
        """Live peer -> the sids of ``appid`` it holds -> take-overs."""
        return {name: peer.held for name, peer in self.live(appid, now, dead_after).items()}

    def holders(self, appid: str, now: float, dead_after: float) -> dict[str, str]:
        """sid of ``appid`` -> the live peer holding it (after the most take-overs; on a tie
        the name sorting first, as :func:`~cloudrec_recorder.takeover.fenced` decides)."""
        best: dict[str, tuple[int, str]] = {}
        live = self.live(appid, now, dead_after)
        for name in sorted(live, reverse=True):
            for sid, count in live[name].held.items():
                if sid not in best or count >= best[sid][0]:
                    best[sid] = (count, name)
        return {sid: name for sid, (_, name) in best.items()}

    def apps_holding(self, sid: str, now: float, dead_after: float) -> set[str]:
        """The app ids in whose view a live peer holds ``sid``: a record offering ``sid``
        under any other app id is another app's recording named by a tenant (refused)."""
        return {
            appid
            for (appid, _), peer in self._peers.items()
            if now - peer.last_seen < dead_after and sid in peer.held
        }

    def lost(self, now: float, dead_after: float) -> dict[tuple[str, str], list[Standby]]:
        """(app id, replica) -> the records of each peer found lost: silent for
        ``dead_after`` with recordings, or back as a new process. Each is told once."""
        found: dict[tuple[str, str], list[Standby]] = {}
        for appid in self.apps():
            peers = {r: p for (a, r), p in self._peers.items() if a == appid}
            seen = {name: peer.last_seen for name, peer in peers.items()}
            holding = [name for name, peer in peers.items() if peer.records]
            for name in dead_replicas(seen, holding, now, dead_after):
                found[(appid, name)] = peers[name].records
                peers[name].records = []
        found |= self._orphans
        self._orphans = {}
        return found
