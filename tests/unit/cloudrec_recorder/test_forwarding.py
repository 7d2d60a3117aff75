"""Which requests go to another replica (pure)."""

from __future__ import annotations

from cloudrec_recorder.forwarding import forward_target
from cloudrec_recorder.sessions import new_resource_id
from cloudrec_recorder.settings import RecorderSettings

SETTINGS = RecorderSettings.model_validate(
    {
        "customerId": "c",
        "customerSecret": "s",
        "apps": {},
        "replicaId": "ra",
        "peers": {"rb": "http://10.0.0.2:8080"},
        "peerUrlTemplate": "http://{replica}.recorder:8080",
    }
)


def path(rid: str, action: str = "query") -> str:
    return f"/v1/apps/app/cloud_recording/resourceid/{rid}/sid/s/mode/mix/{action}"


def test_a_resource_id_of_this_replica_is_handled_here() -> None:
    assert forward_target(SETTINGS, path(new_resource_id("ra")), forwarded=False) is None


def test_a_resource_id_of_a_known_peer_goes_to_its_url() -> None:
    target = forward_target(SETTINGS, path(new_resource_id("rb")), forwarded=False)
    assert target == "http://10.0.0.2:8080"


def test_other_replicas_are_found_through_the_template() -> None:
    target = forward_target(SETTINGS, path(new_resource_id("rc")), forwarded=False)
    assert target == "http://rc.recorder:8080"


def test_a_forwarded_request_is_never_forwarded_again() -> None:
    assert forward_target(SETTINGS, path(new_resource_id("rb")), forwarded=True) is None


def test_acquire_and_foreign_ids_stay_here() -> None:
    assert forward_target(SETTINGS, "/v1/apps/app/cloud_recording/acquire", False) is None
    assert forward_target(SETTINGS, path("not-ours"), forwarded=False) is None
