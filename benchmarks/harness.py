"""What every benchmark's set-up shares, written once.

* :func:`option`: a ``--name=value`` option of the benchmarks run as ``python -m benchmarks``
  (which passes every option to every benchmark, so unknown ones are ignored);
* :func:`require_netns`: the benchmarks that join Janus rooms refuse to run outside
  ``hack/netns-run`` with the command that works;
* :func:`work_directory`: a temporary work directory, or a kept one (``--workdir``), and
  :func:`print_result`: a benchmark's JSON result run in it;
* :class:`Stack`: processes and servers started one after another, stopped in reverse even
  when one of them fails to stop;
* :func:`media_servers`: one Janus and one versitygw;
* :func:`publishing_room`: a Janus room with N publisher processes, all publishing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

from benchmarks.recorder.case import start_publishers, stop_all
from cloudrec_devenv.janus import Janus
from cloudrec_devenv.process import ManagedProcess
from cloudrec_devenv.s3 import S3Server


def option(argv: list[str], name: str, default: str) -> str:
    """The value of ``--name=value`` in ``argv``, else ``default``."""
    for arg in argv:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return default


def require_netns(benchmark: str) -> None:
    """Exit with the right command unless running inside ``hack/netns-run``."""
    if not os.environ.get("CLOUDREC_NETNS"):
        raise SystemExit(
            "run this inside the network namespace (Janus needs its veth): "
            f"hack/netns-run .venv/bin/python -m benchmarks {benchmark}"
        )


@contextlib.contextmanager
def work_directory(prefix: str, keep: str | None = None) -> Iterator[Path]:
    """``keep`` (created if missing, left in place) or a temporary directory removed after."""
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


def print_result(
    args: argparse.Namespace, run: Callable[[argparse.Namespace, Path], dict[str, Any]], prefix: str
) -> None:
    """``run(args, work)`` in ``--workdir`` (``args.workdir``) or a temporary directory; its
    result printed as JSON."""
    with work_directory(prefix, args.workdir) as work:
        result = run(args, work)
    print(json.dumps(result, indent=2))


class Stoppable(Protocol):
    def stop(self) -> object: ...


T = TypeVar("T", bound="Stoppable")


class Stack:
    """Parts started in order (:meth:`push`), stopped in reverse on leaving the ``with``; a part
    that fails to stop is reported and the rest are still stopped."""

    def __init__(self) -> None:
        self.parts: list[Stoppable] = []

    def push(self, part: T) -> T:
        self.parts.append(part)
        return part

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        for part in reversed(self.parts):
            try:
                part.stop()
            except Exception as error:  # keep stopping the rest
                print(f"stopping {part!r} failed: {error}", file=sys.stderr)
        self.parts.clear()


@contextlib.contextmanager
def media_servers(work: Path) -> Iterator[tuple[Janus, S3Server]]:
    """One Janus (its log at level 3: quiet enough not to be measured) and one versitygw."""
    with Janus(work / "janus", debug_level=3) as janus, S3Server(work / "s3") as s3:
        yield janus, s3


@contextlib.contextmanager
def publishing_room(
    work: Path, janus: Janus, label: str, count: int
) -> Iterator[tuple[str, list[ManagedProcess]]]:
    """A fresh room ``<label><count>x<random>`` (letters and digits: recordings' file names
    carry it) with ``count`` publisher processes publishing (logs under
    ``work/publishers-<room>``); publishers stopped and room destroyed after."""
    room = f"{label}{count}x{secrets.token_hex(3)}"
    janus.create_room(room, publishers=max(16, count + 2))
    try:
        publishers = start_publishers(work / f"publishers-{room}", janus, room, count)
        try:
            yield room, publishers
        finally:
            stop_all(publishers)
    finally:
        janus.destroy_room(room)
