"""The I/O side of a chaos run: its own operator, recorder and store, the steps done for real.

:class:`ChaosStack` holds a stack of real processes that the run may kill: an operator
(``python -m cloudrec_operator``) watching the run's two namespaces, a recorder whose callbacks
go to that operator and to the session's callback sink (the run's record of every recording),
and a versitygw of the run's own (frozen with SIGSTOP). The control plane and Janus are the
session's. :meth:`ChaosStack.execute` does one :class:`~cloudrec_devenv.chaos.plan.Step`
(decided by the pure planner); :meth:`ChaosStack.observe` gathers what the invariants
(:mod:`cloudrec_devenv.chaos.invariants`) are checked against.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from tests.fixtures.operator import OperatorProcess, RecordingEnv
from tests.fixtures.recorder import CallbackSink, RecorderProcess

from cloudrec_devenv.chaos.invariants import (
    FINAL_PHASES,
    Notice,
    RecordingLife,
    recording_lives,
)
from cloudrec_devenv.chaos.plan import Action, ChurnConfig, PlannedResource, Step
from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.s3 import S3Server
from cloudrec_operator.api.names import API_VERSION

API = f"/apis/{API_VERSION}"
MAX_IDLE = 5


def _check(response: httpx.Response) -> None:
    """The run's own requests must succeed: a refusal is a bug of the run (or of the CRDs)."""
    if response.is_error:
        raise AssertionError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:600]}"
        )


@dataclass
class Observation:
    """What the run sees at one moment."""

    resources: list[dict[str, Any]]
    in_channels: dict[str, set[str]]
    """Room -> the run's recorder uids Janus lists there."""
    lives: list[RecordingLife]

    def running(self) -> dict[tuple[str, str], str]:
        """(room, uid) -> the sid the recorder is recording there now."""
        return {(life.cname, life.uid): life.sid for life in self.lives if life.ended_ms is None}


@dataclass
class ChaosStack:
    config: ChurnConfig
    plane: ControlPlane
    janus: Janus
    store: S3Server
    recorder: RecorderProcess
    operator: OperatorProcess
    envs: tuple[RecordingEnv, RecordingEnv]
    rooms: tuple[str, ...]
    sink: CallbackSink
    log: Callable[[str], None]
    recorder_kills_ms: list[int] = field(default_factory=list)
    done: Counter[str] = field(default_factory=Counter)
    deleted: dict[str, PlannedResource] = field(default_factory=dict)
    planned: dict[str, PlannedResource] = field(default_factory=dict)
    _resume: threading.Timer | None = None
    _restarts: dict[str, threading.Thread] = field(default_factory=dict)
    _restart_errors: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ steps

    def execute(self, step: Step) -> None:
        """Do ``step`` now (the caller waits for its time).

        A killed process is started again in the background after ``step.seconds``, so the
        churn goes on while it comes up (as it would for a real user); a later kill of the
        same process waits until that restart is done.
        """
        r = step.resource
        if step.action == Action.CREATE and r is not None:
            self._create(r)
        elif step.action == Action.STOP and r is not None:
            self._patch(r, {"state": "Stopped"})
        elif step.action == Action.DELETE and r is not None:
            self._delete(r)
        elif step.action == Action.LAYOUT and r is not None:
            self._patch(r, {"recordingConfig": {"transcodingConfig": {"layout": step.value}}})
        elif step.action == Action.SUBSCRIPTION and r is not None:
            self._patch(r, {"recordingConfig": {"subscribeAudioUids": [step.value]}})
        elif step.action == Action.KILL_OPERATOR:
            self._await_restart("operator")
            self.operator.kill()
            self._restart("operator", step.seconds, self.operator.start)
        elif step.action == Action.KILL_RECORDER:
            self._await_restart("recorder")
            self.recorder.process.kill()
            self.recorder_kills_ms.append(int(time.time() * 1000))
            self._restart("recorder", step.seconds, self._start_recorder)
        elif step.action == Action.PAUSE_STORE:
            self.store.pause()
            self._resume = threading.Timer(step.seconds, self.store.resume)
            self._resume.start()
        self.done[step.action.value] += 1
        if step.moment is not None:
            self.done[f"{step.action.value}{step.moment.value}"] += 1

    def _restart(self, what: str, after: float, start: Callable[[], object]) -> None:
        def run() -> None:
            time.sleep(after)
            try:
                start()
            except BaseException as error:  # reported by _await_restart
                self._restart_errors.append(f"{what} did not start again: {error}")

        thread = threading.Thread(target=run, name=f"restart-{what}", daemon=True)
        self._restarts[what] = thread
        thread.start()

    def _await_restart(self, what: str) -> None:
        thread = self._restarts.pop(what, None)
        if thread is not None:
            thread.join(180)
        if self._restart_errors:
            raise RuntimeError("; ".join(self._restart_errors))

    def _start_recorder(self) -> None:
        self.recorder.process.start()
        self.recorder.process.wait_http(f"{self.recorder.base_url}/readyz", timeout=90)

    def recover(self) -> None:
        """The end of the churn: the store answers, the operator and the recorder run."""
        if self._resume is not None:
            self._resume.cancel()
        self.store.resume()
        self._await_restart("operator")
        self._await_restart("recorder")
        self.operator.ensure_running()
        if not self.recorder.process.running():
            self._start_recorder()

    def _env(self, r: PlannedResource) -> RecordingEnv:
        return self.envs[r.namespace]

    def _path(self, r: PlannedResource) -> str:
        return f"{API}/namespaces/{self._env(r).namespace}/cloudrecordings/{r.name}"

    def _create(self, r: PlannedResource) -> None:
        env = self._env(r)
        manifest = env.manifest(
            r.name,
            self.rooms[r.room],
            uid=r.uid,
            releasePolicy=r.release_policy,
            restartPolicy=r.restart_policy,
            recordingConfig={
                "maxIdleTime": MAX_IDLE,
                "streamTypes": r.stream_types,
                "transcodingConfig": {"width": 160, "height": 120, "fps": 10, "bitrate": 200},
            },
            storageConfig={
                "fileNamePrefix": ["chaos", f"s{self.config.seed}", r.name.replace("-", "")]
            },
        )
        self.planned[r.name] = r
        with self.plane.http_client() as client:
            path = f"{API}/namespaces/{env.namespace}/cloudrecordings"
            _check(client.post(path, json=manifest))

    def _patch(self, r: PlannedResource, spec: dict[str, Any]) -> None:
        with self.plane.http_client() as client:
            response = client.patch(
                self._path(r),
                content=json.dumps({"spec": spec}),
                headers={"Content-Type": "application/merge-patch+json"},
            )
            _check(response)

    def _delete(self, r: PlannedResource) -> None:
        self.deleted[r.name] = r
        with self.plane.http_client() as client:
            _check(client.delete(self._path(r)))

    # ---------------------------------------------------------------- observe

    def resources(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        with self.plane.http_client() as client:
            for env in self.envs:
                response = client.get(f"{API}/namespaces/{env.namespace}/cloudrecordings")
                response.raise_for_status()
                items += response.json()["items"]
        return items

    def uids(self) -> set[str]:
        return {r.uid for r in self.planned.values()}

    def in_channels(self) -> dict[str, set[str]]:
        ours = self.uids()
        return {
            room: {p.id for p in self.janus.list_participants(room) if p.id in ours}
            for room in self.rooms
        }

    def notices(self) -> list[Notice]:
        ours, rooms = self.uids(), set(self.rooms)
        found = []
        for received in list(self.sink.notifications):
            notice = Notice.from_body(received.body)
            if notice is not None and notice.uid in ours and notice.cname in rooms:
                found.append(notice)
        return found

    def observe(self) -> Observation:
        return Observation(
            resources=self.resources(),
            in_channels=self.in_channels(),
            lives=recording_lives(self.notices(), self.recorder_kills_ms),
        )

    def wanted(self, resources: list[dict[str, Any]]) -> set[tuple[str, str]]:
        """(room, uid) of every recording some resource (or a release) wants."""
        wanted = set()
        for obj in resources:
            spec, status = obj["spec"], obj.get("status") or {}
            if (
                spec.get("state", "Recording") == "Recording"
                and not obj["metadata"].get("deletionTimestamp")
                and status.get("phase") not in FINAL_PHASES
            ):
                wanted.add((spec["channelName"], spec["uid"]))
        for r in self.deleted.values():
            if r.release_policy == "KeepInBackground":
                wanted.add((self.rooms[r.room], r.uid))
        return wanted

    def playlists(self, resources: list[dict[str, Any]]) -> dict[str, str | None]:
        """Every playlist of a Completed resource's recording, with its text from the bucket:
        those its status lists, and those the bucket holds under its sid (§8 names start with
        it), so a Completed resource that lists no file is checked too."""
        keys = self.bucket_keys()
        texts: dict[str, str | None] = {}
        for obj in resources:
            status = obj.get("status") or {}
            if status.get("phase") != "Completed":
                continue
            wanted = {
                entry["fileName"]
                for entry in status.get("files") or ()
                if entry["fileName"].endswith(".m3u8")
            }
            sid = status.get("recordingId")
            if sid:
                wanted |= {
                    key
                    for key in keys
                    if key.endswith(".m3u8") and key.rsplit("/", 1)[-1].startswith(f"{sid}_")
                }
            for key in wanted:
                try:
                    texts[key] = self.store.get_object(self.recorder.bucket, key).decode()
                except Exception:  # absent: reported as a violation
                    texts[key] = None
        return texts

    def bucket_keys(self) -> set[str]:
        return set(self.store.object_keys(self.recorder.bucket))

    def figures(self, resources: list[dict[str, Any]], lives: list[RecordingLife]) -> str:
        phases = Counter(str((o.get("status") or {}).get("phase")) for o in resources)
        restarts = sum(int((o.get("status") or {}).get("restarts") or 0) for o in resources)
        killed = sum(1 for life in lives if life.ended_ms in self.recorder_kills_ms)
        with_files = sum(1 for o in resources if (o.get("status") or {}).get("files"))
        return (
            f"steps done {dict(sorted(self.done.items()))}; "
            f"final phases {dict(sorted(phases.items()))} (+{len(self.deleted)} deleted); "
            f"recordings at the recorder {len(lives)} ({killed} killed by a recorder kill); "
            f"resources listing files {with_files}; restarts {restarts}; "
            f"operator starts {self.operator.starts}"
        )
