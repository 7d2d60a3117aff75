"""The resource id and session rules of protocol.md §3 and §5, on a fake clock."""

from __future__ import annotations

import pytest

from cloudrec_recorder import errors
from cloudrec_recorder.recordingkey import RecordingKey, clash
from cloudrec_recorder.sessions import Resource, SessionRegistry, new_resource_id, replica_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(clock: Clock) -> SessionRegistry[str]:
    return SessionRegistry(replica_id="r7", max_active=2, resource_ttl=300.0, clock=clock)


def code_of(exc: pytest.ExceptionInfo[errors.ApiError]) -> tuple[int, int]:
    return exc.value.status, exc.value.code


def test_resource_ids_are_url_safe_and_name_their_replica() -> None:
    rid = new_resource_id("r7")
    assert replica_of(rid) == "r7"
    assert all(c.isalnum() or c in "-_" for c in rid)
    assert new_resource_id("r7") != rid


def test_a_foreign_resource_id_names_no_replica() -> None:
    assert replica_of("not-one-of-ours") is None
    assert replica_of("") is None


def test_start_with_a_fresh_resource_id_claims_it(registry: SessionRegistry[str]) -> None:
    resource = registry.acquire("app", "room", "42")
    assert registry.claim(resource.resource_id, "app", "room", "42") is resource


def test_a_resource_id_is_single_use(registry: SessionRegistry[str]) -> None:
    resource = registry.acquire("app", "room", "42")
    registry.claim(resource.resource_id, "app", "room", "42")
    session = registry.register(resource, "mix", "rec")
    with pytest.raises(errors.ApiError) as exc:
        registry.claim(resource.resource_id, "app", "room", "42")
    assert code_of(exc) == (201, 7)
    assert exc.value.echo == {"resourceId": resource.resource_id, "sid": session.sid}


def test_a_resource_id_expires_five_minutes_after_acquire(
    registry: SessionRegistry[str], clock: Clock
) -> None:
    resource = registry.acquire("app", "room", "42")
    clock.now += 301
    with pytest.raises(errors.ApiError) as exc:
        registry.claim(resource.resource_id, "app", "room", "42")
    assert code_of(exc) == (400, 433)


def test_start_with_another_cname_than_acquire_is_refused(
    registry: SessionRegistry[str],
) -> None:
    resource = registry.acquire("app", "room", "42")
    with pytest.raises(errors.ApiError) as exc:
        registry.claim(resource.resource_id, "app", "other", "42")
    assert code_of(exc) == (400, 432)
    assert "cname" in exc.value.reason


def test_an_unparsable_resource_id_is_refused(registry: SessionRegistry[str]) -> None:
    with pytest.raises(errors.ApiError) as exc:
        registry.claim("garbage", "app", "room", "42")
    assert code_of(exc) == (400, 1001)


def test_a_second_task_for_the_same_cname_and_uid_conflicts(
    registry: SessionRegistry[str],
) -> None:
    first = registry.acquire("app", "room", "42")
    registry.register(registry.claim(first.resource_id, "app", "room", "42"), "mix", "rec")
    second = registry.acquire("app", "room", "42")
    with pytest.raises(errors.ApiError) as exc:
        registry.claim(second.resource_id, "app", "room", "42")
    assert code_of(exc) == (400, 53)


def test_the_same_cname_with_another_uid_does_not_conflict(
    registry: SessionRegistry[str],
) -> None:
    first = registry.acquire("app", "room", "42")
    registry.register(registry.claim(first.resource_id, "app", "room", "42"), "mix", "rec")
    second = registry.acquire("app", "room", "43")
    registry.claim(second.resource_id, "app", "room", "43")


def test_acquire_beyond_the_concurrency_limit_is_over_load(
    registry: SessionRegistry[str],
) -> None:
    registry.acquire("app", "room", "1")
    registry.acquire("app", "room", "2")
    with pytest.raises(errors.ApiError) as exc:
        registry.acquire("app", "room", "3")
    assert code_of(exc) == (400, 406)


def test_capacity_counts_running_recordings_and_unstarted_resource_ids(
    registry: SessionRegistry[str], clock: Clock
) -> None:
    assert registry.capacity("app") == (0, 0, 2)
    first = registry.acquire("app", "room", "1")
    registry.register(registry.claim(first.resource_id, "app", "room", "1"), "mix", "rec")
    registry.acquire("app", "room", "2")
    assert registry.capacity("app") == (1, 1, 0)
    clock.now += 301  # the unstarted resource id expired: its place is free again
    assert registry.capacity("app") == (1, 0, 1)
    assert registry.capacity("app", app_limit=1) == (1, 0, 0)


def test_a_start_still_joining_the_channel_holds_its_place(
    registry: SessionRegistry[str],
) -> None:
    first = registry.acquire("app", "room", "1")
    registry.acquire("app", "room", "2")
    registry.claim(first.resource_id, "app", "room", "1")  # joining: no session yet
    assert registry.capacity("app") == (0, 1, 0)
    with pytest.raises(errors.ApiError) as exc:
        registry.acquire("app", "room", "3")
    assert code_of(exc) == (400, 406)


def test_a_start_that_failed_gives_its_place_back_to_its_resource_id(
    registry: SessionRegistry[str],
) -> None:
    first = registry.acquire("app", "room", "1")
    registry.unclaim(registry.claim(first.resource_id, "app", "room", "1"))
    assert registry.capacity("app") == (0, 1, 1)


def test_an_app_limit_counts_starts_still_joining(registry: SessionRegistry[str]) -> None:
    first = registry.acquire("app", "room", "1", app_limit=1)
    registry.claim(first.resource_id, "app", "room", "1")
    with pytest.raises(errors.ApiError) as exc:
        registry.acquire("app", "room", "2", app_limit=1)
    assert code_of(exc) == (400, 406)


def test_a_draining_recorder_has_no_capacity(registry: SessionRegistry[str]) -> None:
    registry.draining = True
    assert registry.capacity("app") == (0, 0, 0)


def test_an_exited_recording_frees_its_slot(registry: SessionRegistry[str]) -> None:
    for uid in ("1", "2"):
        resource = registry.acquire("app", "room", uid)
        session = registry.register(
            registry.claim(resource.resource_id, "app", "room", uid), "mix", uid
        )
    registry.mark_exited(session)
    registry.acquire("app", "room", "3")


def test_expired_unstarted_resource_ids_free_their_slot(
    registry: SessionRegistry[str], clock: Clock
) -> None:
    registry.acquire("app", "room", "1")
    registry.acquire("app", "room", "2")
    clock.now += 301
    registry.acquire("app", "room", "3")


def test_lookup_finds_the_session_by_resource_id_and_sid(registry: SessionRegistry[str]) -> None:
    resource = registry.acquire("app", "room", "42")
    session = registry.register(
        registry.claim(resource.resource_id, "app", "room", "42"), "mix", "rec"
    )
    assert registry.lookup("app", resource.resource_id, session.sid, "mix") is session


@pytest.mark.parametrize(
    ("appid", "sid", "mode"),
    [("app", "nope", "mix"), ("other", None, "mix"), ("app", None, "individual")],
    ids=["unknown sid", "other app", "other mode"],
)
def test_lookup_of_what_was_never_started_is_404(
    registry: SessionRegistry[str], appid: str, sid: str | None, mode: str
) -> None:
    resource = registry.acquire("app", "room", "42")
    session = registry.register(
        registry.claim(resource.resource_id, "app", "room", "42"), "mix", "rec"
    )
    with pytest.raises(errors.ApiError) as exc:
        registry.lookup(appid, resource.resource_id, sid or session.sid, mode)
    assert code_of(exc) == (404, 404)


def test_lookup_after_resource_expired_hour_is_404(
    registry: SessionRegistry[str], clock: Clock
) -> None:
    resource = registry.acquire("app", "room", "42", expired_hour=1)
    session = registry.register(
        registry.claim(resource.resource_id, "app", "room", "42"), "mix", "rec"
    )
    clock.now += 3599
    registry.lookup("app", resource.resource_id, session.sid, "mix")
    clock.now += 2
    with pytest.raises(errors.ApiError) as exc:
        registry.lookup("app", resource.resource_id, session.sid, "mix")
    assert code_of(exc) == (404, 404)


def test_an_exited_session_is_forgotten_after_its_retention(
    registry: SessionRegistry[str], clock: Clock
) -> None:
    resource = registry.acquire("app", "room", "42")
    session = registry.register(
        registry.claim(resource.resource_id, "app", "room", "42"), "mix", "rec"
    )
    registry.mark_exited(session)
    clock.now += registry.exited_retention - 1
    assert registry.lookup("app", resource.resource_id, session.sid, "mix") is session
    clock.now += 2
    with pytest.raises(errors.ApiError):
        registry.lookup("app", resource.resource_id, session.sid, "mix")


def test_a_draining_registry_takes_no_new_acquire(registry: SessionRegistry[str]) -> None:
    registry.draining = True
    with pytest.raises(errors.ApiError) as exc:
        registry.acquire("app", "room", "42")
    assert code_of(exc) == (503, 501)


def test_replica_names_may_be_pod_names() -> None:
    assert replica_of(new_resource_id("cloudrec-recorder-3")) == "cloudrec-recorder-3"


def test_an_app_at_its_quota_gets_406_naming_it_while_other_apps_still_acquire(
    clock: Clock,
) -> None:
    registry: SessionRegistry[str] = SessionRegistry(max_active=8, clock=clock)
    first = registry.acquire("a", "room", "1", app_limit=2)
    registry.register(registry.claim(first.resource_id, "a", "room", "1"), "mix", "rec")
    registry.acquire("a", "room", "2", app_limit=2)  # pending: counts too
    with pytest.raises(errors.ApiError) as refused:
        registry.acquire("a", "room", "3", app_limit=2)
    assert code_of(refused) == (400, 406)
    assert "app a may have at most 2" in refused.value.reason
    registry.acquire("b", "room", "1", app_limit=2)
    clock.now += 301.0  # the pending id expired: its slot is free again
    registry.acquire("a", "room", "3", app_limit=2)


def offered(appid: str, resource_id: str) -> Resource:
    """A resource as a hand-over's offer or a take-over's record brings it."""
    return Resource(resource_id, appid, "room", "7", acquired_at=1000.0, expired_hour=24)


def test_a_session_is_held_found_and_reported_under_its_own_app_id_only(
    registry: SessionRegistry[str],
) -> None:
    resource = registry.acquire("victim", "room", "42")
    session = registry.register(
        registry.claim(resource.resource_id, "victim", "room", "42"), "mix", "rec"
    )
    assert registry.holds(RecordingKey("victim", session.sid))
    assert not registry.holds(RecordingKey("tenant", session.sid))
    with pytest.raises(errors.ApiError) as exc:
        registry.lookup("tenant", resource.resource_id, session.sid, "mix")
    assert code_of(exc) == (404, 404)
    assert registry.clashes(RecordingKey("tenant", session.sid)) == ["victim"]
    assert registry.clashes(RecordingKey("victim", session.sid)) == []


def test_another_apps_sid_is_refused_not_merged_even_after_that_recording_exited(
    registry: SessionRegistry[str], clock: Clock
) -> None:
    resource = registry.acquire("victim", "room", "42")
    session = registry.register(
        registry.claim(resource.resource_id, "victim", "room", "42"), "mix", "rec"
    )
    registry.mark_exited(session)  # still queryable: its spool may still be delivered
    with pytest.raises(errors.ApiError) as exc:
        registry.adopt(offered("tenant", resource.resource_id), "mix", "forged", session.sid)
    assert code_of(exc) == (400, 2)
    assert "another app" in exc.value.reason
    assert registry.lookup("victim", resource.resource_id, session.sid, "mix") is session
    clock.now += registry.exited_retention + 1  # forgotten: nothing here has the sid
    assert registry.clashes(RecordingKey("tenant", session.sid)) == []


def test_a_recording_taken_back_under_its_own_app_id_replaces_its_earlier_session(
    registry: SessionRegistry[str],
) -> None:
    rid = new_resource_id("r7")
    first = registry.adopt(offered("app", rid), "mix", "first", "a" * 32)
    first.stop_requested = True  # handed over
    again = registry.adopt(offered("app", rid), "mix", "again", "a" * 32)
    assert registry.lookup("app", rid, "a" * 32, "mix") is again


@pytest.mark.parametrize(
    ("here", "clashing"),
    [([], []), (["app"], []), (["app", "other", "third", "other"], ["other", "third"])],
)
def test_a_clash_names_the_other_app_ids_a_sid_is_known_under(
    here: list[str], clashing: list[str]
) -> None:
    assert clash(RecordingKey("app", "a" * 32), here) == clashing
