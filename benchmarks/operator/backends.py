"""What the operator benchmark drives: the full local stack, or the load backend alone.

* ``recorder``: Janus with empty rooms (``per_room`` recorder uids share one), versitygw
  and one recorder process, as ``make demo`` runs them;
* ``load``: :mod:`benchmarks.operator.loadbackend` in its own process, which answers the
  protocol at once and sends the signed callbacks (nothing records, nothing uploads), so
  what is measured is the operator and the API server.

Both give a :class:`Target`: what the manifests name (backend URL, credentials, bucket) and
the processes whose CPU is reported.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.fixtures.recorder import CallbackSink, RecorderProcess, start_recorder

from benchmarks.harness import Stack
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import ManagedProcess, free_port
from cloudrec_devenv.s3 import S3Server

APP_ID = "0123456789abcdef0123456789abcdef"


@dataclass
class Target:
    """The recording backend the CloudRecordings use, and the processes behind it."""

    url: str
    customer_id: str
    customer_secret: str
    app_id: str
    callback_secret: str
    bucket: str
    s3_endpoint: str
    access_key: str
    secret_key: str
    pids: dict[str, int] = field(default_factory=dict)
    recorder: RecorderProcess | None = None


def full_stack(
    work: Path,
    stack: Stack,
    *,
    count: int,
    per_room: int,
    callback_url: str,
    secret: str,
    capacity: int | None = None,
) -> Target:
    """Janus, versitygw and the recorder (each pushed on ``stack`` to be stopped); the
    recorder takes ``capacity`` recordings at once (default: all ``count`` and a margin)."""
    janus = stack.push(Janus(work / "janus").start())
    for room in range((count + per_room - 1) // per_room):
        janus.create_room(f"bench-room-{room}")
    s3 = stack.push(S3Server(work / "s3").start())
    bucket = "bench-" + secrets.token_hex(4)
    s3.create_bucket(bucket)
    recorder = start_recorder(
        work / "recorder",
        janus,
        CallbackSink(secret=secret),
        s3,
        bucket,
        callbacks={"urls": [callback_url], "secret": secret},
        maxConcurrentRecordings=count + 10 if capacity is None else capacity,
        resourceIdTtlSeconds=300,
        progressIntervalSeconds=60,  # the service's pace (the test fixture's is 5 s)
    )
    stack.push(recorder.process)
    pids = {"janus": janus.process.pid, "recorder": recorder.process.pid}
    return Target(
        url=recorder.base_url,
        customer_id=recorder.customer_id,
        customer_secret=recorder.customer_secret,
        app_id=recorder.app_id,
        callback_secret=secret,
        bucket=bucket,
        s3_endpoint=recorder.s3.endpoint,
        access_key=recorder.s3.access_key,
        secret_key=recorder.s3.secret_key,
        pids={name: pid for name, pid in pids.items() if pid is not None},
        recorder=recorder,
    )


def load_backend(
    work: Path,
    stack: Stack,
    *,
    callback_url: str,
    secret: str,
    latency: float,
    progress_interval: float,
) -> Target:
    """The load backend process (appended to ``stack``); returns once it answers."""
    port = free_port()
    customer_id, customer_secret = "bench-customer", secrets.token_urlsafe(18)
    env = {
        **os.environ,
        "LOAD_BACKEND_CUSTOMER_ID": customer_id,
        "LOAD_BACKEND_CUSTOMER_SECRET": customer_secret,
        "LOAD_BACKEND_CALLBACK_SECRET": secret,
    }
    process = ManagedProcess(
        "load-backend",
        [
            sys.executable,
            "-m",
            "benchmarks.operator.loadbackend",
            "--port",
            str(port),
            "--callback-url",
            callback_url,
            "--latency",
            str(latency),
            "--progress-interval",
            str(progress_interval),
        ],
        work / "load-backend.log",
        env=env,
    )
    stack.push(process).start()
    url = f"http://127.0.0.1:{port}"
    process.wait_http(f"{url}/healthz", timeout=60)
    assert process.pid is not None
    return Target(
        url=url,
        customer_id=customer_id,
        customer_secret=customer_secret,
        app_id=APP_ID,
        callback_secret=secret,
        bucket="bench-unused",
        s3_endpoint="http://127.0.0.1:9",  # never contacted: nothing uploads
        access_key="bench-access-key",
        secret_key=secrets.token_urlsafe(18),
        pids={"load-backend": process.pid},
    )
