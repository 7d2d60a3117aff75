"""Per-process bookkeeping of the operator: notices, the sid index, adoption, the timer's filter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.unit.cloudrec_protocol.test_manifest import pem_pair

from cloudrec_operator.api.v1alpha1.cloudrecording import CloudRecordingSpec
from cloudrec_operator.api.v1alpha1.recordingbackend import RecordingBackendSpec
from cloudrec_operator.handlers.finalizer import (
    FINALIZER,
    finalizer_change,
    has_external_recording,
    timer_needed,
)
from cloudrec_operator.handlers.operator import sid_index_entry
from cloudrec_operator.handlers.ports import MissingInputError
from cloudrec_operator.handlers.reconciler import parsed_spec
from cloudrec_operator.handlers.runtime import Known, Runtime
from cloudrec_operator.handlers.schedule import MIN_DELAY, PassScheduler, next_pass_delay
from cloudrec_operator.metrics import REGISTRY
from cloudrec_operator.reconcile.model import Phase, Tracked
from cloudrec_operator.reconcile.persist import spec_hashes
from cloudrec_operator.reconcile.timing import Timing
from cloudrec_operator.settings import Settings


class NoKube:
    """Stands in for the API facade where a test never reaches it."""

    writes = 0

    async def aclose(self) -> None:
        pass


def runtime() -> Runtime:
    return Runtime(settings=Settings(), kube=NoKube(), timing=Timing())  # type: ignore[arg-type]


def test_a_notice_is_applied_once_and_the_memory_is_bounded() -> None:
    rt = runtime()
    assert not rt.seen_notice("a", limit=2)
    assert rt.seen_notice("a", limit=2)
    rt.seen_notice("b", limit=2)
    rt.seen_notice("c", limit=2)
    assert not rt.seen_notice("a", limit=2)


def test_the_sid_index_names_the_recording_whose_status_holds_the_sid() -> None:
    assert sid_index_entry("ns", "rec", {"recordingId": "s1", "phase": "Recording"}) == {
        "s1": ("ns", "rec")
    }
    # Without a sid (not started yet, or restarting) the object leaves the index.
    assert sid_index_entry("ns", "rec", {"phase": "Pending", "restarts": 1}) == {}
    assert sid_index_entry("ns", "rec", {}) == {}


def test_the_callback_receiver_finds_a_recording_through_the_index_or_the_sid_it_stored() -> None:
    rt = runtime()
    key, other = ("ns", "rec"), ("ns", "other")
    rt.index = {"s0": [other]}
    assert rt.owner("s0") == other  # watched (e.g. stored before a restart)
    # Stored by this process's pass; the index learns it from the watch a moment later.
    rt.remember(key, Known("u1", Tracked(sid="s1"), {}, ""))
    assert rt.owner("s1") == key
    rt.index = {"s1": [key]}
    assert rt.owner("s1") == key
    assert rt.owner("s2") is None
    # A restarted recording's new sid replaces its old one; a forgotten one has none.
    rt.remember(key, Known("u1", Tracked(sid="s3"), {}, ""))
    rt.index = {}
    assert (rt.owner("s1"), rt.owner("s3")) == (None, key)
    rt.forget(key)
    assert rt.owner("s3") is None


def test_phase_gauge_counts_the_recordings_known() -> None:
    rt = runtime()
    rt.remember(("ns", "a"), Known("u", Tracked(phase=Phase.RECORDING), {}, ""))
    rt.remember(("ns", "b"), Known("u", Tracked(phase=Phase.RECORDING), {}, ""))
    value = REGISTRY.get_sample_value("cloudrec_recordings", {"phase": "Recording"})
    assert value == 2


def test_phase_gauge_follows_a_recording_that_moves_on_or_is_forgotten() -> None:
    rt = runtime()
    rt.remember(("ns", "a"), Known("u", Tracked(phase=Phase.RECORDING), {}, ""))
    rt.remember(("ns", "b"), Known("u", Tracked(phase=Phase.RECORDING), {}, ""))
    rt.remember(("ns", "a"), Known("u", Tracked(phase=Phase.STOPPING), {}, ""))
    rt.forget(("ns", "b"))
    rt.forget(("ns", "never-known"))

    def count(phase: str) -> float | None:
        return REGISTRY.get_sample_value("cloudrec_recordings", {"phase": phase})

    assert (count("Recording"), count("Stopping"), count("Pending")) == (0, 1, 0)


def test_a_lost_start_is_adoptable_by_channel_and_uid_only() -> None:
    rt = runtime()
    key = ("ns", "rec")
    rt.bodies[key] = {"spec": {"channelName": "room", "uid": "527"}}
    rt.remember(key, Known("u", Tracked(resource_id="r1", lost_start="r1"), {}, ""))
    assert rt.adoptable("room", "527") == key
    assert rt.adoptable("room", "528") is None
    rt.remember(key, Known("u", Tracked(resource_id="r1", sid="s1"), {}, ""))
    assert rt.adoptable("room", "527") is None


def test_a_deleted_recording_whose_start_answer_is_unknown_is_adoptable() -> None:
    rt = runtime()
    key = ("ns", "rec")
    unknown = Tracked(phase=Phase.CONNECTING, resource_id="r1")
    rt.bodies[key] = {"spec": {"channelName": "room", "uid": "527"}}
    rt.remember(key, Known("u", unknown, {}, ""))
    assert rt.adoptable("room", "527") is None, "it still wants to record: no guessing"
    rt.bodies[key] = {
        "metadata": {"deletionTimestamp": "2026-12-02T12:00:00Z"},
        "spec": {"channelName": "room", "uid": "527"},
    }
    assert rt.adoptable("room", "527") == key
    rt.bodies[key] = {"spec": {"channelName": "room", "uid": "527", "state": "Stopped"}}
    assert rt.adoptable("room", "527") == key
    refused = unknown.replace(refused_start="r1")
    rt.remember(key, Known("u", refused, {}, ""))
    assert rt.adoptable("room", "527") is None, "a refused start began nothing"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({}, False),
        ({"phase": "Pending"}, False),
        ({"phase": "Pending", "restarts": 1}, True),
        ({"phase": "Connecting"}, True),
        ({"phase": "Recording"}, True),
        ({"phase": "Uploading"}, True),
        ({"phase": "Completed"}, False),
        ({"phase": "Failed"}, False),
        ({"phase": "Released"}, False),
    ],
)
def test_the_timer_and_finalizer_exist_only_while_a_recording_may_run(
    status: dict[str, Any], expected: bool
) -> None:
    assert has_external_recording(status) is expected


class CountingKube(NoKube):
    """Serves one backend and its Secret from memory, counting the reads."""

    def __init__(self) -> None:
        self.reads = 0

    async def backend(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        self.reads += 1
        await asyncio.sleep(0.01)
        return {
            "spec": {
                "url": "http://recorder.invalid",
                "credentialsSecretRef": {"name": "creds"},
                "defaultAppId": "app",
            }
        }

    async def secret_value(self, namespace: str, name: str, key: str) -> str:
        self.reads += 1
        await asyncio.sleep(0.01)
        return f"{key}-value"


async def test_recordings_created_at_once_load_their_backend_once() -> None:
    kube = CountingKube()
    rt = Runtime(settings=Settings(), kube=kube, timing=Timing())  # type: ignore[arg-type]
    spec = CloudRecordingSpec.load(
        {
            "backendRef": {"name": "local"},
            "channelName": "room",
            "uid": "1",
            "storageConfig": {
                "vendor": "S3Compatible",
                "bucket": "b",
                "endpoint": "http://s3.invalid",
                "credentialsSecretRef": {"name": "bucket"},
            },
        }
    )
    try:
        loaded = await asyncio.gather(*(rt.backend(spec, "ns") for _ in range(50)))
        assert len({id(b) for b in loaded}) == 1
        assert kube.reads == 3  # the backend and its two credential keys, once
    finally:
        await rt.aclose()


def test_the_finalizer_is_on_exactly_while_a_recording_may_exist() -> None:
    connecting, done = {"phase": "Connecting"}, {"phase": "Completed"}
    assert finalizer_change({}, {"phase": "Pending"}, present=False) is None
    assert finalizer_change({}, connecting, present=False) == "add"
    assert finalizer_change({}, connecting, present=True) is None
    # A restart waiting for its backoff still has a recording to own.
    assert finalizer_change({}, {"phase": "Pending", "restarts": 1}, present=False) == "add"
    assert finalizer_change({}, done, present=True) == "remove"
    assert finalizer_change({}, {"phase": "Failed"}, present=True) == "remove"
    # While deleting, kopf removes it once the deletion handler is done; nothing is added.
    deleting = {"deletionTimestamp": "2026-11-25T00:00:00Z"}
    assert finalizer_change(deleting, done, present=True) is None
    assert finalizer_change(deleting, connecting, present=False) is None


def test_the_query_timer_runs_while_a_recording_exists_or_the_finalizer_is_on() -> None:
    assert timer_needed({"phase": "Recording"}, {})
    assert timer_needed({"phase": "Completed"}, {"finalizers": [FINALIZER]})
    assert not timer_needed({"phase": "Completed"}, {"finalizers": ["other/x"]})
    assert not timer_needed({"phase": "Pending"}, {})


@pytest.mark.parametrize(
    ("wait", "live", "delay"),
    [
        (30.0, True, 30.0),  # the next query of a confirmed recording: not before it is due
        (2.0, True, 2.0),
        (8.0, False, 8.0),  # a retry before any recording exists
        (None, True, 5.0),  # a recording that may exist is looked at every tick
        (None, False, None),  # nothing to do and nothing to stop: no pass at all
        (0.0, True, MIN_DELAY),  # never a busy loop
    ],
)
def test_the_next_pass_runs_when_its_step_is_due(
    wait: float | None, live: bool, delay: float | None
) -> None:
    assert next_pass_delay(wait, live, tick=5.0) == delay


async def test_a_scheduled_pass_runs_once_at_its_latest_time() -> None:
    ran: list[str] = []

    async def run(key: str) -> None:
        ran.append(key)

    passes: PassScheduler[str] = PassScheduler(run)
    passes.set("a", 0.05)
    passes.set("a", 0.01)  # replaces the first time
    passes.set("b", 0.01)
    passes.set("b", None)  # cancelled
    await asyncio.sleep(0.15)
    assert ran == ["a"]
    assert "a" not in passes


async def test_forgetting_a_recording_cancels_its_next_pass() -> None:
    ran: list[tuple[str, str]] = []

    async def run(key: tuple[str, str]) -> None:
        ran.append(key)

    rt = runtime()
    rt.passes = PassScheduler(run)
    key = ("ns", "rec")
    rt.passes.set(key, 0.01)
    rt.forget(key)
    await asyncio.sleep(0.05)
    assert ran == []


async def test_a_backend_on_a_host_the_administrator_did_not_allow_is_not_used() -> None:
    settings = Settings(backend_hosts=("recorder.media.svc",))
    rt = Runtime(settings=settings, kube=CountingKube(), timing=Timing())  # type: ignore[arg-type]
    spec = CloudRecordingSpec.load(
        {
            "backendRef": {"name": "local"},
            "channelName": "room",
            "uid": "1",
            "storageConfig": {
                "vendor": "S3Compatible",
                "bucket": "b",
                "endpoint": "http://s3.invalid",
                "credentialsSecretRef": {"name": "bucket"},
            },
        }
    )
    try:
        with pytest.raises(MissingInputError) as refused:
            await rt.backend(spec, "team-a")
        assert refused.value.reason == "BackendHostNotAllowed"
        assert "RecordingBackend team-a/local: host recorder.invalid" in refused.value.message
    finally:
        await rt.aclose()


def test_a_lost_start_is_adopted_only_through_its_own_backend() -> None:
    rt = runtime()
    key = ("team-a", "rec")
    rt.bodies[key] = {"spec": {"backendRef": {"name": "mine"}, "channelName": "c", "uid": "7"}}
    rt.remember(key, Known("u", Tracked(lost_start="rid"), {}, ""))
    assert rt.adoptable("c", "7") == key
    assert rt.adoptable("c", "7", ("RecordingBackend", "team-a", "mine")) == key
    assert rt.adoptable("c", "7", ("ClusterRecordingBackend", "", "shared")) is None
    assert rt.adoptable("c", "7", ("RecordingBackend", "team-b", "mine")) is None


def recording_body(generation: int, channel: str, uid: str = "u1") -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": "rec", "uid": uid, "generation": generation},
        "spec": {
            "backendRef": {"name": "local"},
            "channelName": channel,
            "uid": "1",
            "storageConfig": {
                "vendor": "S3Compatible",
                "bucket": "b",
                "endpoint": "http://s3.invalid",
                "credentialsSecretRef": {"name": "bucket"},
            },
        },
    }


def test_a_spec_is_parsed_once_per_generation_of_its_object() -> None:
    rt = runtime()
    key = ("ns", "rec")
    first, hashes = parsed_spec(rt, key, recording_body(1, "room"))
    again, _ = parsed_spec(rt, key, recording_body(1, "room"))
    assert again is first
    changed, _ = parsed_spec(rt, key, recording_body(2, "other-room"))
    assert changed.channel_name == "other-room"
    recreated, _ = parsed_spec(rt, key, recording_body(2, "third-room", uid="u2"))
    assert recreated.channel_name == "third-room"
    assert hashes == spec_hashes(first)
    rt.forget(key)
    assert key not in rt.specs


class KeyKube(NoKube):
    """Serves one Secret key and one ConfigMap key; anything else is missing."""

    def __init__(self, secret: str, config_map: str) -> None:
        self.values = {("Secret", "pub"): secret, ("ConfigMap", "pub"): config_map}

    async def _value(self, kind: str, namespace: str, name: str, key: str) -> str:
        found = self.values.get((kind, name))
        if found is None or key != "manifestPublicKey":
            raise MissingInputError(f"{kind}NotFound", f"{kind} {namespace}/{name} not found")
        return found

    async def secret_value(self, namespace: str, name: str, key: str) -> str:
        return await self._value("Secret", namespace, name, key)

    async def config_map_value(self, namespace: str, name: str, key: str) -> str:
        return await self._value("ConfigMap", namespace, name, key)


def _public_pem() -> str:
    return pem_pair()[1]


@pytest.mark.parametrize(
    ("ref", "usable", "problem"),
    [
        ({"name": "pub"}, True, None),
        ({"kind": "ConfigMap", "name": "pub"}, True, None),
        ({"kind": "ConfigMap", "name": "gone"}, False, "ConfigMap ns/gone not found"),
        ({"name": "pub", "key": "other"}, False, "not found"),
        ({"kind": "Secret", "name": "bad"}, False, "not found"),
    ],
    ids=["secret", "config-map", "no-config-map", "no-key", "no-secret"],
)
async def test_a_backends_manifest_public_key_comes_from_a_secret_or_a_config_map(
    ref: dict[str, str], usable: bool, problem: str | None
) -> None:
    pem = _public_pem()
    rt = Runtime(settings=Settings(), kube=KeyKube(pem, pem), timing=Timing())  # type: ignore[arg-type]
    spec = RecordingBackendSpec.load(
        {
            "url": "http://r.invalid",
            "credentialsSecretRef": {"name": "c"},
            "manifestPublicKeyRef": ref,
        }
    )
    key, found_problem = await rt._manifest_key(spec, "ns", cluster=False)
    assert (key is not None) is usable
    if problem is None:
        assert found_problem is None
    else:
        assert found_problem is not None and problem in found_problem
        assert found_problem.startswith("manifestPublicKeyRef: ")


async def test_a_manifest_public_key_that_is_not_ed25519_pem_is_a_problem_naming_where() -> None:
    rt = Runtime(settings=Settings(), kube=KeyKube("garbage", ""), timing=Timing())  # type: ignore[arg-type]
    spec = RecordingBackendSpec.load(
        {
            "url": "http://r.invalid",
            "credentialsSecretRef": {"name": "c"},
            "manifestPublicKeyRef": {"name": "pub"},
        }
    )
    key, problem = await rt._manifest_key(spec, "ns", cluster=False)
    assert key is None
    assert problem == (
        "manifestPublicKeyRef: Secret ns/pub key 'manifestPublicKey': not a PEM public key "
        "(-----BEGIN PUBLIC KEY-----)"
    )


def test_only_recordings_without_a_sid_are_kept_by_channel_and_uid_for_callbacks() -> None:
    rt = runtime()
    keys = [("ns", f"r{i}") for i in range(3)]
    for i, key in enumerate(keys):
        rt.bodies[key] = {"spec": {"channelName": "room", "uid": str(500 + i % 2)}}
        rt.remember(key, Known("u", Tracked(resource_id=f"r{i}"), {}, ""))
    assert rt.sids.unstarted == {
        ("room", "500"): {keys[0]: None, keys[2]: None},
        ("room", "501"): {keys[1]: None},
    }
    rt.remember(keys[0], Known("u", Tracked(resource_id="r0", sid="s0"), {}, ""))
    rt.forget(keys[1])
    assert rt.sids.unstarted == {("room", "500"): {keys[2]: None}}
    rt.remember(keys[2], Known("u", Tracked(resource_id="r2", sid="s2"), {}, ""))
    assert rt.sids.unstarted == {} and rt.waiting_backends("room", "500") == []
