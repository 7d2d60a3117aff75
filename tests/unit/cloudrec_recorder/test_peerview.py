"""What a replica makes of its peers' beats (peerview.py): each app id's beats count for that
app id's recordings only, so a tenant's credential cannot move another app's recordings."""

from __future__ import annotations

from typing import Any

from cloudrec_recorder.peerview import PeerView
from cloudrec_recorder.takeover import Beat, Held, Standby

SID = "0123456789abcdef0123456789abcdef"
VICTIM = "fedcba9876543210fedcba9876543210"
DEAD_AFTER = 3.0


def standby(sid: str) -> Standby:
    return Standby(
        sid=sid,
        resource_id="rid",
        cname="room",
        uid="9",
        client_request={},
        expired_hour=24,
        origin_epoch_ms=0,
        first_frame_ms=0,
    )


def beat(replica: str, boot: str = "a" * 16, **fields: Any) -> Beat:
    return Beat(replica=replica, boot=boot, **fields)


def test_a_beat_under_one_app_id_names_no_holder_for_another_apps_sid() -> None:
    view = PeerView("ra")
    view.heard("tenantapp", beat("rb", held=[Held(sid=VICTIM, takeovers=99)]), now=0.0)
    assert view.holders("tenantapp", 1.0, DEAD_AFTER) == {VICTIM: "rb"}
    assert view.holders("victimapp", 1.0, DEAD_AFTER) == {}
    assert view.held("victimapp", 1.0, DEAD_AFTER) == {}


def test_a_peer_is_alive_and_ready_per_app_id_as_that_app_ids_beats_tell() -> None:
    view = PeerView("ra")
    view.heard("victimapp", beat("rb", ready=True), now=0.0)
    view.heard("tenantapp", beat("rb", ready=True), now=5.0)  # a forger keeps "rb" alive
    assert view.ready("tenantapp", 6.0, DEAD_AFTER) == ["rb"]
    assert view.ready("victimapp", 6.0, DEAD_AFTER) == []


def test_a_silent_peer_is_lost_with_the_records_of_each_app_id_once() -> None:
    view = PeerView("ra")
    view.heard("a1", beat("rb", recordings=[standby(SID)]), now=0.0)
    view.heard("a2", beat("rb", recordings=[standby(VICTIM)]), now=0.0)
    view.heard("a2", beat("rb", recordings=[standby(VICTIM)]), now=2.5)
    assert {key: [r.sid for r in rs] for key, rs in view.lost(3.0, DEAD_AFTER).items()} == {
        ("a1", "rb"): [SID]
    }
    assert view.lost(3.1, DEAD_AFTER) == {}
    assert [r.sid for r in view.lost(6.0, DEAD_AFTER)[("a2", "rb")]] == [VICTIM]


def test_a_new_boot_under_one_app_id_orphans_that_app_ids_records_only() -> None:
    view = PeerView("ra")
    view.heard("victimapp", beat("rb", recordings=[standby(VICTIM)]), now=0.0)
    view.heard("tenantapp", beat("rb", recordings=[standby(SID)]), now=0.0)
    view.heard("tenantapp", beat("rb", boot="b" * 16), now=0.5)  # "restarted", says a forger
    lost = view.lost(1.0, DEAD_AFTER)
    assert {key: [r.sid for r in rs] for key, rs in lost.items()} == {("tenantapp", "rb"): [SID]}


def test_a_replica_ignores_a_beat_that_names_itself() -> None:
    view = PeerView("ra")
    view.heard("a1", beat("ra", held=[Held(sid=SID)]), now=0.0)
    assert view.apps() == [] and view.holders("a1", 0.0, DEAD_AFTER) == {}


def test_the_app_ids_a_sid_is_held_under_are_those_of_live_peers_only() -> None:
    view = PeerView("ra")
    view.heard("victimapp", beat("rb", held=[Held(sid=VICTIM)]), now=0.0)
    view.heard("tenantapp", beat("rb", recordings=[standby(VICTIM)]), now=0.0)
    view.heard("otherapp", beat("rc", held=[Held(sid=VICTIM)]), now=-5.0)  # silent since
    assert view.apps_holding(VICTIM, 1.0, DEAD_AFTER) == {"victimapp"}
    assert view.apps_holding(SID, 1.0, DEAD_AFTER) == set()
