"""A seeded churn of CloudRecordings while the operator, the recorder and the store fail.

Everything is real: kube-apiserver, the operator and the recorder as processes, Janus with
publishers in two rooms, versitygw. The steps come from the pure planner
(:mod:`cloudrec_devenv.chaos.plan`): creates in two namespaces under both release and
both restart policies, ``state: Stopped``, deletes within seconds or later, layout and
subscription changes, the operator SIGKILLed (mid-start, mid-stop, anywhere) and started again
within 0-3 s, the recorder SIGKILLed and started again, the store frozen with SIGSTOP.

Then the run checks, as a user would, what must hold after a bounded settle time:

1. with the publishers still in the rooms: no recording in a channel without a resource that
   wants it, and every resource in phase Recording names the sid the recorder records;
2. after the publishers left: no resource stuck (every one final, or retrying with a visible
   reason; deleted ones gone), no two recordings of one resource at once, and every Completed
   resource's playlists end with ``#EXT-X-ENDLIST`` and list only segments in the bucket, and
   the recorder said its recording exited (a recording that died is never Completed).

The seed, the steps and the figures are printed, so a failure replays with
``make chaos SEED=<seed> MINUTES=<minutes>``. ``make test`` runs a short seed (one minute of
churn, eight resources); ``CHAOS_SEED`` / ``CHAOS_MINUTES`` choose another.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.e2e.chaos_stack import ChaosStack
from tests.fixtures.controlplane import fresh_namespace
from tests.fixtures.media import PublishFactory
from tests.fixtures.operator import CALLBACK_SECRET, OperatorProcess, prepare_recordings
from tests.fixtures.recorder import CallbackSink, start_recorder
from tests.fixtures.storage import new_bucket

from cloudrec_devenv.chaos.invariants import (
    FINAL_PHASES,
    overlapping_recordings,
    playlist_problems,
    rests_stopped,
    sid_mismatches,
    stuck_resources,
    unfinished_completions,
    unwanted_recordings,
)
from cloudrec_devenv.chaos.plan import ChurnConfig, Step, schedule
from cloudrec_devenv.controlplane import ControlPlane
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import free_port
from cloudrec_devenv.s3 import S3Server
from cloudrec_operator.api.names import CLOUDRECORDINGS

SHORT_SEED = 20261202
MINUTES = float(os.environ.get("CHAOS_MINUTES") or 1.0)
SEED = int(os.environ.get("CHAOS_SEED") or SHORT_SEED)
LIVE_SETTLE = 90.0
"""Seconds for the recordings at the recorder to match what the resources want."""
END_SETTLE = 180.0
"""Seconds, once the publishers left, for every resource to end."""

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.cluster,
    pytest.mark.media,
    pytest.mark.storage,
    pytest.mark.timeout(int(600 + 3 * 60 * MINUTES)),
]


def chaos_config() -> ChurnConfig:
    """One minute and eight resources by default; ``CHAOS_MINUTES`` scales both."""
    return ChurnConfig(seed=SEED, duration=60.0 * MINUTES, resources=max(8, round(7 * MINUTES)))


@pytest.fixture
def chaos(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    control_plane: ControlPlane,
    crds_installed: list[Path],
    janus: Janus,
    s3_server_fn: S3Server,
    callback_sink: CallbackSink,
) -> Iterator[ChaosStack]:
    config = chaos_config()
    log_path = tmp_path / "chaos.log"

    def log(line: str) -> None:
        print(line, flush=True)
        with log_path.open("a") as out:
            out.write(line + "\n")

    with contextlib.ExitStack() as cleanup:
        namespaces = tuple(
            cleanup.enter_context(fresh_namespace(control_plane, request, f"chaos-{x}-", 20))
            for x in "ab"
        )
        operator = OperatorProcess(
            workdir=tmp_path / "operator",
            kubeconfig=control_plane.kubeconfig,
            callback_port=free_port(),
            liveness_port=free_port(),
            namespaces=namespaces,
        )
        recorder = start_recorder(
            tmp_path / "recorder",
            janus,
            callback_sink,
            s3_server_fn,
            new_bucket(s3_server_fn),
            callbacks={
                "urls": [operator.callback_url, callback_sink.url],
                "secret": CALLBACK_SECRET,
                "retries": 3,
            },
            maxConcurrentRecordings=32,
            resourceIdTtlSeconds=30,
        )
        cleanup.callback(recorder.process.stop)
        cleanup.callback(s3_server_fn.resume)
        operator.start()
        cleanup.callback(operator.stop)
        rooms = tuple(f"chaos-{i}-{secrets.token_hex(3)}" for i in range(config.rooms))
        for room in rooms:
            janus.create_room(room)
            cleanup.callback(janus.destroy_room, room)
        envs = tuple(prepare_recordings(control_plane, ns, recorder, operator) for ns in namespaces)
        yield ChaosStack(
            config=config,
            plane=control_plane,
            janus=janus,
            store=s3_server_fn,
            recorder=recorder,
            operator=operator,
            envs=(envs[0], envs[1]),
            rooms=rooms,
            sink=callback_sink,
            log=log,
        )
        # Nothing is left recording: every resource deleted with releasePolicy Stop.
        for env in envs:
            env.kubectl("delete", CLOUDRECORDINGS, "--all", "--wait=false", check=False)


def run_steps(stack: ChaosStack, steps: list[Step]) -> None:
    began = time.monotonic()
    for step in steps:
        delay = began + step.at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stack.log(f"{step.describe()}  (late {max(0.0, -delay):.1f}s)")
        stack.execute(step)


def settle(
    stack: ChaosStack, within: float, check: Callable[[], list[str]], every: float = 2.0
) -> list[str]:
    """``check()`` until it finds nothing or ``within`` seconds passed; its last findings."""
    deadline = time.monotonic() + within
    while True:
        found = check()
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(every)


def live_violations(stack: ChaosStack) -> list[str]:
    seen = stack.observe()
    return unwanted_recordings(seen.in_channels, stack.wanted(seen.resources)) + sid_mismatches(
        seen.resources, seen.running()
    )


def unsettled(stack: ChaosStack) -> list[str]:
    seen = stack.observe()
    busy = [
        f"{o['metadata']['name']} {(o.get('status') or {}).get('phase')}"
        for o in seen.resources
        if ((o.get("status") or {}).get("phase") not in FINAL_PHASES and not rests_stopped(o))
        or o["metadata"].get("deletionTimestamp")
    ]
    return busy + [f"{room}: {sorted(uids)}" for room, uids in seen.in_channels.items() if uids]


def end_violations(stack: ChaosStack) -> tuple[list[str], str]:
    seen = stack.observe()
    keys = stack.bucket_keys()
    found = (
        stuck_resources(seen.resources)
        + unwanted_recordings(seen.in_channels, stack.wanted(seen.resources))
        + overlapping_recordings(seen.lives)
        + playlist_problems(stack.playlists(seen.resources), keys)
        + unfinished_completions(seen.resources, stack.notices())
    )
    return found, stack.figures(seen.resources, seen.lives)


async def test_a_seeded_churn_with_crashes_and_a_frozen_store_leaves_every_resource_truthful(
    chaos: ChaosStack, publish: PublishFactory
) -> None:
    stack, config = chaos, chaos.config
    steps = schedule(config)
    stack.log(
        f"chaos seed={config.seed} minutes={MINUTES} resources={config.resources} "
        f"steps={len(steps)} (replay: make chaos SEED={config.seed} MINUTES={MINUTES})"
    )
    async with contextlib.AsyncExitStack() as publishers:
        for index, room in enumerate(stack.rooms):
            await publishers.enter_async_context(
                publish(room, config.publisher_uids(index), width=160, height=120, fps=10)
            )
        await asyncio.to_thread(run_steps, stack, steps)
        await asyncio.to_thread(stack.recover)
        stack.log("churn over; settling with the publishers in the rooms")
        live = await asyncio.to_thread(settle, stack, LIVE_SETTLE, lambda: live_violations(stack))
    stack.log("publishers gone; waiting for every resource to end")
    left = await asyncio.to_thread(settle, stack, END_SETTLE, lambda: unsettled(stack), 3.0)
    if left:
        stack.log(f"not settled after {END_SETTLE:.0f}s: {left}")
    found, figures = await asyncio.to_thread(end_violations, stack)
    violations = live + found
    stack.log(f"chaos seed={config.seed}: {figures}")
    for line in violations:
        stack.log(f"VIOLATION {line}")
    assert not violations, (
        f"chaos seed={config.seed} minutes={MINUTES}: {len(violations)} violation(s):\n"
        + "\n".join(violations)
        + f"\n{figures}\noperator logs: {stack.operator.log_path.parent}"
    )
