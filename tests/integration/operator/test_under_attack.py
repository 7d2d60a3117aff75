"""A namespace user attacks through the operator while another tenant records (issue 12).

Real parts throughout: the kube-apiserver with RBAC and the chart's Secret-reference policy,
the operator, one recorder process shared by both tenants (the administrator's credential
for the victim's ClusterRecordingBackend, a credential scoped to its own app id for the
attacker; each app id sends its callbacks to its own backend's path, signed with that
backend's secret, as docs/security.md recommends), Janus and versitygw.

The attacker is a ServiceAccount (a bearer token) that may create CloudRecordings and
RecordingBackends in its namespace and ``get`` three Secrets there: its own recorder
credential, its own callback secret and its own bucket keys. It records its own room through
its own RecordingBackend (so it may sign callbacks with a secret it chose), and tries items
1, 2, 3, 7, 10, 12, 13 and 16. Each attack is a helper that asserts the refusal and the
reason it names; each runs in a test of its own, and all of them run again in the last test.

The victim records a live publisher (a process of its own) through a ClusterRecordingBackend
meant for its namespace only, for the whole module; the last test stops it and reads its HLS
back from the bucket: no gap.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.fixtures.controlplane import fresh_namespace
from tests.fixtures.foreign import MARKER
from tests.fixtures.operator import (
    CALLBACK_SECRET,
    NAMESPACE_PREFIX,
    RECORDER_UID,
    OperatorProcess,
    RecordingEnv,
    condition,
    prepare_recordings,
    ready,
)
from tests.fixtures.recorder import APP_ID, CallbackSink, RecorderProcess, start_recorder
from tests.fixtures.storage import new_bucket
from tests.fixtures.tenants import TENANT, rendered_policy, tenant_kubeconfig, tenant_rbac
from tests.integration.live import PublisherProcess, hls_from_bucket

from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server
from cloudrec_devenv.tools import tool
from cloudrec_operator.api.names import API_VERSION, CLOUDRECORDINGS, TRACKING_ANNOTATION
from cloudrec_operator.api.v1alpha1.cloudrecording import MAX_STATUS_FILE_NAME, MAX_STATUS_FILES
from cloudrec_protocol.events import EventType, sign

pytestmark = [pytest.mark.cluster, pytest.mark.media, pytest.mark.storage, pytest.mark.timeout(300)]

run = asyncio.to_thread
TENANT_APP = "tenantapp"
TENANT_USER = "tenant-customer"
FPS = 15
LIVE_SPAN = 15.0
"""Seconds of the victim's video checked for gaps (the recording lasts at least this)."""
CANVAS = {"width": 320, "height": 240, "fps": FPS, "bitrate": 300}
LONG_IDLE = 600
"""maxIdleTime of every recording here: a loaded machine never makes one leave its channel."""
CATALOGUE = {str(int(t)) for t in EventType} | {"other"}
HELD_PER_BACKEND_BYTES = 2 << 20
ROUNDS = 2
"""Times the last test runs every attack (each round starts five recordings of the attacker)."""


# ------------------------------------------------------------------ the two tenants


@dataclass
class Attacker:
    env: RecordingEnv
    """The attacker's namespace as the administrator reads it (status, Events)."""
    kubeconfig: Path
    callback_secret: str
    room: str
    own_sid: str
    """The sid of the attacker's own recording ``own``."""

    @property
    def namespace(self) -> str:
        return self.env.namespace

    def kubectl(
        self, *args: str, doc: dict[str, Any] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """kubectl as the tenant (its token, its RBAC)."""
        argv = [str(tool("kubectl")), "--kubeconfig", str(self.kubeconfig), "-n", self.namespace]
        return subprocess.run(
            [*argv, *args],
            input=None if doc is None else json.dumps(doc),
            capture_output=True,
            text=True,
            env=self.env.plane.env(),
            timeout=60,
        )

    def apply(self, doc: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        return self.kubectl("apply", "-f", "-", doc=doc)

    def recording(self, name: str, **spec: Any) -> dict[str, Any]:
        manifest = self.env.manifest(name, self.room, **spec)
        manifest["spec"] |= {"backendRef": {"name": "own"}, "appId": TENANT_APP}
        if name != "own":  # one recorder uid per task in a channel
            manifest["spec"]["uid"] = str(800000 + secrets.randbelow(99999))
        manifest["spec"]["storageConfig"]["credentialsSecretRef"] = {"name": "own-bucket"}
        manifest["spec"]["recordingConfig"] |= {"maxIdleTime": LONG_IDLE}
        return manifest

    @property
    def own_path(self) -> str:
        base = self.env.operator.callback_url
        return f"{base}/namespaces/{self.namespace}/recordingbackends/own"

    async def callback(
        self, event_type: int, details: dict[str, Any], *, sid: str | None = None
    ) -> httpx.Response:
        """A callback signed with the attacker's own backend secret, on that backend's path;
        about its own recording unless ``sid`` names another."""
        raw = notification(event_type, details, sid or self.own_sid, self.room)
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(
                self.own_path, content=raw, headers=sign(raw, self.callback_secret)
            )


@dataclass
class Victim:
    env: RecordingEnv
    backend: str
    """The ClusterRecordingBackend meant for the victim's namespace only."""
    room: str
    publisher: PublisherProcess
    sid: str
    resource_id: str
    ready_at: float = field(default_factory=time.monotonic)
    """When the recording was seen Ready (monotonic)."""

    def current(self) -> dict[str, Any]:
        return self.env.get("live")


def notification(event_type: int, details: dict[str, Any], sid: str, cname: str) -> bytes:
    now = int(time.time() * 1000)
    return json.dumps(
        {
            "noticeId": str(uuid.uuid4()),
            "productId": 3,
            "eventType": event_type,
            "notifyMs": now,
            "payload": {
                "cname": cname,
                "uid": RECORDER_UID,
                "sid": sid,
                "sequence": 0,
                "sendts": now,
                "serviceType": 0,
                "details": details,
            },
        }
    ).encode()


def secret(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}


@dataclass(frozen=True)
class Tenancy:
    """What the administrator decides before the recorder starts: each tenant's app id
    sends its callbacks to its own backend's path, signed with that backend's secret."""

    attacker_namespace: str
    attacker_secret: str
    """The callback secret the attacker chose for its backend ``own``."""
    victim_backend: str
    """The ClusterRecordingBackend meant for the victim's namespace only."""


@pytest.fixture(scope="module")
def tenancy() -> Tenancy:
    return Tenancy(
        attacker_namespace=f"{NAMESPACE_PREFIX}attacker-{secrets.token_hex(3)}",
        attacker_secret="mine-" + secrets.token_hex(8),
        victim_backend=f"victim-only-{secrets.token_hex(3)}",
    )


@pytest.fixture(scope="module")
def shared_recorder(
    tmp_path_factory: pytest.TempPathFactory,
    janus: Janus,
    callback_sink: CallbackSink,
    s3_server: S3Server,
    operator_callback_port: int,
    tenancy: Tenancy,
) -> Iterator[RecorderProcess]:
    """One recorder for both tenants: the administrator's credential covers every app id,
    the tenant's only its own; each app's callbacks go to its own backend's path."""
    janus_app = {"janus": {"wsUrl": janus.ws_url}}
    receiver = f"http://127.0.0.1:{operator_callback_port}/callbacks"
    victim_path = f"{receiver}/clusterrecordingbackends/{tenancy.victim_backend}"
    attacker_path = f"{receiver}/namespaces/{tenancy.attacker_namespace}/recordingbackends/own"
    running = start_recorder(
        tmp_path_factory.mktemp("shared-recorder"),
        janus,
        callback_sink,
        s3_server,
        new_bucket(s3_server),
        apps={
            APP_ID: janus_app
            | {"callbacks": {"urls": [victim_path], "secret": CALLBACK_SECRET, "retries": 3}},
            TENANT_APP: janus_app
            | {
                "callbacks": {
                    "urls": [attacker_path],
                    "secret": tenancy.attacker_secret,
                    "retries": 3,
                }
            },
        },
        credentials=[
            {
                "customerId": TENANT_USER,
                "customerSecret": "tenant-" + secrets.token_hex(12),
                "appIds": [TENANT_APP],
            }
        ],
        maxConcurrentRecordings=16,
        resourceIdTtlSeconds=30,
        drainTimeoutSeconds=5,  # the attacker's recordings are left running at the end
    )
    try:
        yield running
    finally:
        running.process.stop()


@pytest.fixture(scope="module")
def secret_policy(control_plane: ControlPlane, crds_installed: list[Path]) -> Iterator[None]:
    """The chart's Secret-reference policy, as ``helm template`` renders it."""
    docs = rendered_policy(control_plane)
    control_plane.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs))
    try:
        yield
    finally:
        for doc in docs:
            control_plane.kubectl(
                "delete", doc["kind"], doc["metadata"]["name"], "--ignore-not-found", check=False
            )


@pytest.fixture(scope="module")
def victim(
    control_plane: ControlPlane,
    request: pytest.FixtureRequest,
    cloudrec_operator: OperatorProcess,
    shared_recorder: RecorderProcess,
    janus: Janus,
    tmp_path_factory: pytest.TempPathFactory,
    tenancy: Tenancy,
) -> Iterator[Victim]:
    """The other tenant: recording a live publisher from the first test to the last."""
    cloudrec_operator.ensure_running()
    rec = shared_recorder
    room = f"victim-{secrets.token_hex(4)}"
    janus.create_room(room)
    backend = tenancy.victim_backend
    with fresh_namespace(control_plane, request, NAMESPACE_PREFIX + "victim-", 12) as namespace:
        env = prepare_recordings(control_plane, namespace, rec, cloudrec_operator)
        control_plane.kubectl("label", "namespace", namespace, "tenant=victim")
        cluster_backend = {
            "apiVersion": API_VERSION,
            "kind": "ClusterRecordingBackend",
            "metadata": {"name": backend},
            "spec": {
                "url": rec.base_url,
                "serviceKind": "SelfHosted",
                "credentialsSecretRef": {"name": "recorder-credentials", "namespace": namespace},
                "callbackSecretRef": {"name": "callbacks", "namespace": namespace},
                "allowedNamespaces": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "allowedAppIds": [APP_ID],
            },
        }
        control_plane.kubectl("apply", "-f", "-", input=yaml.safe_dump(cluster_backend))
        logs = tmp_path_factory.mktemp("victim")
        try:
            with PublisherProcess(janus, room, "1001", logs, size=(160, 120)) as publisher:
                env.apply(
                    "live",
                    room,
                    backendRef={"kind": "ClusterRecordingBackend", "name": backend},
                    recordingConfig={"maxIdleTime": LONG_IDLE, "transcodingConfig": CANVAS},
                )
                status = env.wait("live", ready, 120.0, "Ready True")["status"]
                yield Victim(
                    env, backend, room, publisher, status["recordingId"], status["resourceId"]
                )
        finally:
            env.kubectl("delete", CLOUDRECORDINGS, "--all", "--wait=false", check=False)
            control_plane.kubectl("delete", "clusterrecordingbackend", backend, check=False)
            janus.destroy_room(room)


@pytest.fixture(scope="module")
def attacker(
    control_plane: ControlPlane,
    cloudrec_operator: OperatorProcess,
    shared_recorder: RecorderProcess,
    secret_policy: None,
    janus: Janus,
    tmp_path_factory: pytest.TempPathFactory,
    tenancy: Tenancy,
) -> Iterator[Attacker]:
    """A namespace user with its own backend, callback secret and recording."""
    rec = shared_recorder
    room = f"attacker-{secrets.token_hex(4)}"
    janus.create_room(room)
    callback_secret = tenancy.attacker_secret
    [tenant_credential] = rec.settings["credentials"]
    namespace = tenancy.attacker_namespace
    control_plane.kubectl("create", "namespace", namespace)
    try:
        readable = ["own-credentials", "own-callbacks", "own-bucket"]
        docs = [
            *tenant_rbac(namespace, readable),
            secret(
                "own-credentials",
                {
                    "customerId": tenant_credential["customerId"],
                    "customerSecret": tenant_credential["customerSecret"],
                },
            ),
            secret("own-callbacks", {"callbackSecret": callback_secret}),
            secret("own-bucket", {"accessKey": rec.s3.access_key, "secretKey": rec.s3.secret_key}),
            secret("admins-only", {"accessKey": "admin", "secretKey": secrets.token_hex(12)}),
        ]
        control_plane.kubectl("-n", namespace, "apply", "-f", "-", input=yaml.safe_dump_all(docs))
        kubeconfig = tenant_kubeconfig(
            control_plane, namespace, tmp_path_factory.mktemp("tenant") / "kubeconfig"
        )
        env = RecordingEnv(control_plane, namespace, rec, cloudrec_operator, [])
        attacker = Attacker(env, kubeconfig, callback_secret, room, own_sid="")
        own_backend = {
            "apiVersion": API_VERSION,
            "kind": "RecordingBackend",
            "metadata": {"name": "own"},
            "spec": {
                "url": rec.base_url,
                "serviceKind": "SelfHosted",
                "credentialsSecretRef": {"name": "own-credentials"},
                "callbackSecretRef": {"name": "own-callbacks"},
            },
        }
        try:
            assert attacker.apply(own_backend).returncode == 0
            answer = attacker.apply(attacker.recording("own"))
            assert answer.returncode == 0, answer.stderr
            attacker.own_sid = env.wait("own", ready, 120.0, "Ready True")["status"]["recordingId"]
            yield attacker
        finally:
            env.kubectl("delete", CLOUDRECORDINGS, "--all", "--wait=false", check=False)
            janus.destroy_room(room)
    finally:
        control_plane.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


# ------------------------------------------------------------------ the attacks


async def refused_at_admission(attacker: Attacker, doc: dict[str, Any], *expected: str) -> None:
    answer = await run(attacker.apply, doc)
    assert answer.returncode != 0, f"{doc['metadata']['name']} was admitted"
    for text in expected:
        assert text in answer.stderr, answer.stderr


async def secret_of_another(attacker: Attacker) -> None:
    """Item 1: name a Secret the user may not read; the operator would send its value."""
    doc = attacker.recording(f"steal-{secrets.token_hex(3)}")
    doc["spec"]["storageConfig"]["credentialsSecretRef"] = {"name": "admins-only"}
    who = f"system:serviceaccount:{attacker.namespace}:{TENANT}"
    deadline = time.monotonic() + 60  # the API server loads a new policy within seconds
    while (answer := await run(attacker.apply, doc)).returncode == 0:
        await run(attacker.kubectl, "delete", CLOUDRECORDINGS, doc["metadata"]["name"])
        assert time.monotonic() < deadline, "the Secret reference policy was never enforced"
        await asyncio.sleep(0.5)
    assert f"spec.storageConfig.credentialsSecretRef: {who} may not get Secret" in answer.stderr
    assert f"{attacker.namespace}/admins-only" in answer.stderr


async def backend_url_aimed_elsewhere(attacker: Attacker) -> None:
    """Item 2: a backend URL with a query, to reach another service's admin path."""
    doc = {
        "apiVersion": API_VERSION,
        "kind": "RecordingBackend",
        "metadata": {"name": f"aimed-{secrets.token_hex(3)}"},
        "spec": {
            "url": "http://10.0.0.7:9200/_security/user/admin?x=",
            "credentialsSecretRef": {"name": "own-credentials"},
        },
    }
    await refused_at_admission(attacker, doc, "spec.url")


async def foreign_answer_echoed(attacker: Attacker, foreign: str) -> None:
    """Item 2: a backend at another service of the cluster; its answer must not show."""
    name = f"foreign-{secrets.token_hex(3)}"
    backend = {
        "apiVersion": API_VERSION,
        "kind": "RecordingBackend",
        "metadata": {"name": name},
        "spec": {"url": foreign, "credentialsSecretRef": {"name": "own-credentials"}},
    }
    assert (await run(attacker.apply, backend)).returncode == 0
    doc = attacker.recording(name)
    doc["spec"]["backendRef"] = {"name": name}
    assert (await run(attacker.apply, doc)).returncode == 0

    def told(obj: dict[str, Any]) -> bool:
        return "HTTP 403" in json.dumps(obj.get("status") or {})

    recording = await run(attacker.env.wait, name, told, 90.0, "the 403 in the status")
    seen = json.dumps(recording["status"]) + json.dumps(await run(attacker.env.events, name))
    assert "not a recording service error" in seen
    assert MARKER not in seen


async def forged_tracking(attacker: Attacker, victim: Victim) -> None:
    """Item 3: the operator's bookkeeping annotation written by the user: a back-off bomb,
    and a lost start naming the victim's resource id (in range: only the signature says it
    is not the operator's)."""
    forgeries = {
        f"bomb-{secrets.token_hex(3)}": {
            "failures": 4000000000,
            "retry_at": "2100-01-01T00:00:00Z",
        },
        f"adopt-{secrets.token_hex(3)}": {"lost_start": victim.resource_id},
    }
    for name, forged in forgeries.items():
        doc = attacker.recording(name)
        doc["metadata"]["annotations"] = {TRACKING_ANNOTATION: json.dumps(forged)}
        assert (await run(attacker.apply, doc)).returncode == 0
    for name in forgeries:
        recording = await run(attacker.env.wait, name, ready, 120.0, "Ready True")
        assert recording["status"]["recordingId"] not in (victim.sid, None)
        warned = [m for _, r, m in await run(attacker.env.events, name) if r == "TrackingIgnored"]
        assert warned and "not signed by this operator" in warned[0], warned
    assert attacker.env.operator.running()


async def cluster_backend_of_another(attacker: Attacker, victim: Victim) -> None:
    """Item 10: record through the ClusterRecordingBackend meant for the victim."""
    name = f"borrowed-{secrets.token_hex(3)}"
    doc = attacker.recording(name)
    doc["spec"] |= {
        "backendRef": {"kind": "ClusterRecordingBackend", "name": victim.backend},
        "appId": APP_ID,
    }
    assert (await run(attacker.apply, doc)).returncode == 0

    def refused(obj: dict[str, Any]) -> bool:
        return condition(obj, "Ready").get("reason") == "BackendNotAllowed"

    recording = await run(attacker.env.wait, name, refused, 60.0, "BackendNotAllowed")
    assert victim.backend in condition(recording, "Ready")["message"]
    assert "recordingId" not in recording["status"]


async def canvas_the_encoder_cannot_take(attacker: Attacker) -> None:
    """Item 16: a canvas the recorder's encoder would fail on."""
    doc = attacker.recording(f"canvas-{secrets.token_hex(3)}")
    doc["spec"]["recordingConfig"]["transcodingConfig"] = {"width": 16, "height": 129600}
    await refused_at_admission(
        attacker,
        doc,
        "spec.recordingConfig.transcodingConfig.height",
        "less than or equal to 1920",
    )


async def held_callback_flood(attacker: Attacker, victim: Victim) -> None:
    """Item 7: fill the buffer of held callbacks with bodies signed by one's own backend;
    another tenant's early callbacks must still be held."""
    pad = {"pad": "x" * 900_000}
    answers = []
    for _ in range(4):
        answer = await attacker.callback(40, pad, sid=secrets.token_hex(16))
        answers.append(answer)
        if answer.status_code != 200:
            break
    held = [a for a in answers if a.status_code == 200 and a.json().get("held")]
    assert len(held) * 900_000 <= HELD_PER_BACKEND_BYTES
    last = answers[-1]
    assert (last.status_code, last.json()["reason"]) == (503, "held_full"), last.text
    # The victim's backend still has room: an early callback of its own is held.
    raw = notification(40, {}, secrets.token_hex(16), victim.room)
    path = f"{victim.env.operator.callback_url}/clusterrecordingbackends/{victim.backend}"
    async with httpx.AsyncClient(timeout=30) as client:
        theirs = await client.post(path, content=raw, headers=sign(raw, CALLBACK_SECRET))
    assert theirs.json() == {"ok": True, "held": True}, theirs.text


def event_type_labels(operator: OperatorProcess) -> dict[str, float]:
    """``cloudrec_callbacks_received_total`` by its event_type label, from /metrics."""
    text = httpx.get(operator.metrics_url, timeout=10).text
    found = re.findall(
        r'^cloudrec_callbacks_received_total\{event_type="([^"]*)"\} (\S+)$', text, re.M
    )
    return {label: float(value) for label, value in found}


async def event_type_labels_flood(attacker: Attacker) -> None:
    """Item 12: callbacks with made-up event types, each of which would be a new series."""
    before = (await run(event_type_labels, attacker.env.operator)).get("other", 0.0)
    made_up = [70000 + secrets.randbelow(10**6) for _ in range(20)]
    for event_type in made_up:
        answer = await attacker.callback(event_type, {"x": 1})
        assert answer.json() == {"ok": True}, answer.text
    labels = await run(event_type_labels, attacker.env.operator)
    assert set(labels) <= CATALOGUE, sorted(set(labels) - CATALOGUE)
    assert labels["other"] >= before + len(made_up)


async def too_many_files(attacker: Attacker) -> None:
    """Item 13: a file list the status cannot hold; the recording must not get stuck."""
    name = f"files-{secrets.token_hex(3)}"
    assert (await run(attacker.apply, attacker.recording(name))).returncode == 0
    sid = (await run(attacker.env.wait, name, ready, 120.0, "Ready True"))["status"]["recordingId"]
    many = [
        {"fileName": f"op/{sid}_{attacker.room}_{i}.m3u8"} for i in range(MAX_STATUS_FILES + 200)
    ]
    long_names = [{"fileName": "op/" + "n" * 3000 + f"{i}.m3u8"} for i in range(3)]
    answer = await attacker.callback(4, {"fileList": long_names + many}, sid=sid)
    assert answer.json() == {"ok": True}, answer.text

    def counted(obj: dict[str, Any]) -> bool:
        return bool((obj.get("status") or {}).get("filesOmitted"))

    status = (await run(attacker.env.wait, name, counted, 60.0, "filesOmitted"))["status"]
    assert len(status["files"]) <= MAX_STATUS_FILES
    assert all(len(f["fileName"]) <= MAX_STATUS_FILE_NAME for f in status["files"])
    assert status["filesOmitted"] >= 203
    # The status still builds: a later change of the recording reaches it.
    await run(
        attacker.kubectl,
        "patch",
        "cloudrecording",
        name,
        "--type",
        "merge",
        "-p",
        json.dumps({"spec": {"state": "Stopped"}}),
    )

    def stopped(obj: dict[str, Any]) -> bool:
        return (obj.get("status") or {}).get("phase") not in ("Recording", "Starting", None)

    await run(attacker.env.wait, name, stopped, 90.0, "the stop in the status")


# ------------------------------------------------------------------ one test per attack


async def test_a_user_naming_a_secret_they_may_not_read_or_an_odd_url_or_canvas_is_refused(
    attacker: Attacker, victim: Victim
) -> None:
    await secret_of_another(attacker)
    await backend_url_aimed_elsewhere(attacker)
    await canvas_the_encoder_cannot_take(attacker)


async def test_held_callbacks_of_one_backend_are_capped_by_bytes_and_leave_room_for_others(
    attacker: Attacker, victim: Victim
) -> None:
    await held_callback_flood(attacker, victim)


async def test_made_up_event_types_are_counted_as_other_on_the_operators_metrics(
    attacker: Attacker, victim: Victim
) -> None:
    await event_type_labels_flood(attacker)


async def test_more_files_or_longer_names_than_the_status_holds_leave_the_recording_working(
    attacker: Attacker, victim: Victim
) -> None:
    await too_many_files(attacker)


# ------------------------------------------------------------------ under attack


async def test_another_tenants_live_recording_has_no_gap_while_every_attack_runs(
    attacker: Attacker, victim: Victim, foreign_service: str, tmp_path: Path
) -> None:
    env = victim.env
    for _ in range(ROUNDS):
        await asyncio.gather(
            secret_of_another(attacker),
            backend_url_aimed_elsewhere(attacker),
            foreign_answer_echoed(attacker, foreign_service),
            forged_tracking(attacker, victim),
            cluster_backend_of_another(attacker, victim),
            canvas_the_encoder_cannot_take(attacker),
            held_callback_flood(attacker, victim),
            event_type_labels_flood(attacker),
            too_many_files(attacker),
        )
    # However fast the attacks went (an idle machine), the recording covers the checked span.
    await asyncio.sleep(max(3.0, victim.ready_at + LIVE_SPAN + 3.0 - time.monotonic()))
    # Nothing of it reached the victim: same recording, never left Ready, publisher still on.
    await run(victim.publisher.assert_publishing)
    live = await run(victim.current)
    assert (live["status"]["recordingId"], live["status"]["phase"]) == (victim.sid, "Recording")
    assert condition(live, "Ready")["status"] == "True"
    assert not [r for t, r, _ in await run(env.events, "live") if t == "Warning"]
    await run(env.patch_spec, "live", {"state": "Stopped"})
    done = await run(env.wait_phase, "live", "Completed", 90.0)
    [playlist] = [f["fileName"] for f in done["status"]["files"] if f["fileName"].endswith(".m3u8")]
    hls = await run(hls_from_bucket, env.recorder.s3, env.recorder.bucket, playlist, tmp_path)
    hls.assert_continuous(FPS, at_least=LIVE_SPAN)
