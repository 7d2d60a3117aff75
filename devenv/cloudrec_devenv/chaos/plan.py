"""The churn of a chaos run, decided from a seed alone (no I/O, no clock).

A chaos run creates CloudRecordings in two namespaces, stops, deletes and updates them, and
meanwhile kills the operator and the recorder and freezes the S3 store. Every choice comes from
``random.Random(seed)`` and from the plan's own book of what it did so far
(:class:`ChurnBook`), never from what the system answered, so one seed always gives the same
steps and a failure replays with ``make chaos SEED=...``::

    config = ChurnConfig(seed=7, duration=90.0, resources=9)
    for step in schedule(config):
        ...  # execute step.action at step.at seconds (tests/e2e/chaos_stack.py)

:func:`next_step` is the one decision: the next step after ``book``'s last one. It places
operator kills right after a create (mid-start) or right after a stop or delete (mid-stop),
deletes some resources within seconds of their creation and others later, spreads the
recorder kills and the store pauses over the middle of the run, and stops once every create
is made and the duration is over.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "LAYOUTS",
    "Action",
    "ChurnBook",
    "ChurnConfig",
    "KillMoment",
    "PlannedResource",
    "Step",
    "next_step",
    "schedule",
]

LAYOUTS = ("Float", "BestFit", "Vertical")
"""The layouts an update may switch to (CloudRecording ``transcodingConfig.layout``)."""


class Action(StrEnum):
    """What a step does."""

    CREATE = "Create"
    STOP = "Stop"
    """Set ``spec.state: Stopped``."""
    DELETE = "Delete"
    LAYOUT = "Layout"
    """Change ``transcodingConfig.layout`` (a live update)."""
    SUBSCRIPTION = "Subscription"
    """Change ``subscribeAudioUids`` (a live update)."""
    KILL_OPERATOR = "KillOperator"
    """SIGKILL the operator, start it again ``seconds`` later."""
    KILL_RECORDER = "KillRecorder"
    """SIGKILL the recorder, start it again ``seconds`` later."""
    PAUSE_STORE = "PauseStore"
    """SIGSTOP the S3 store for ``seconds``."""


class KillMoment(StrEnum):
    """When an operator kill lands."""

    MID_START = "MidStart"
    """Within moments of a create: the start is in flight."""
    MID_STOP = "MidStop"
    """Within moments of a stop or a delete: the stop is in flight."""
    ANY = "Any"


@dataclass(frozen=True)
class PlannedResource:
    """A CloudRecording the run creates."""

    name: str
    namespace: int
    """0 or 1: which of the run's two namespaces."""
    room: int
    """Which of the run's rooms it records."""
    uid: str
    """The recorder's uid in the channel (one per resource: appid+cname+uid is one task)."""
    release_policy: str
    restart_policy: str
    stream_types: str


@dataclass(frozen=True)
class Step:
    """One thing the run does, ``at`` seconds after it began."""

    at: float
    action: Action
    resource: PlannedResource | None = None
    value: str = ""
    """The new layout, or the uid a subscription change keeps."""
    seconds: float = 0.0
    """Kills: how long the process stays dead; pauses: how long the store stays frozen."""
    moment: KillMoment | None = None

    def describe(self) -> str:
        """One line for the run's log."""
        parts = [f"t={self.at:6.1f}s", self.action.value]
        if self.resource is not None:
            parts.append(self.resource.name)
        if self.action == Action.CREATE and self.resource is not None:
            r = self.resource
            parts.append(
                f"ns={r.namespace} room={r.room} release={r.release_policy} "
                f"restart={r.restart_policy} streams={r.stream_types}"
            )
        if self.value:
            parts.append(self.value)
        if self.seconds:
            parts.append(f"{self.seconds:.1f}s")
        if self.moment is not None:
            parts.append(self.moment.value)
        return " ".join(parts)


@dataclass(frozen=True)
class ChurnConfig:
    """How much churn: the seed decides everything else."""

    seed: int
    duration: float = 90.0
    """Seconds over which steps are spread (the last creates may come a little later)."""
    resources: int = 9
    """How many CloudRecordings the run creates."""
    rooms: int = 2
    publishers_per_room: int = 2
    operator_kills: int | None = None
    """Default: about three a minute (at least three)."""
    recorder_kills: int | None = None
    """Default: one, or two from the seed on runs of three minutes or more."""
    store_pauses: int = 1
    store_pause_seconds: tuple[float, float] = (8.0, 15.0)
    restart_within: float = 3.0
    """A killed process is started again after 0 to this many seconds."""
    quick_delete_share: float = 0.3
    """The share of creates followed by a delete within seconds."""

    def publisher_uids(self, room: int) -> tuple[str, ...]:
        """The uids publishing in ``room`` (distinct across rooms)."""
        return tuple(str(1001 + 100 * room + i) for i in range(self.publishers_per_room))


@dataclass
class BookEntry:
    resource: PlannedResource
    created_at: float
    stopped: bool = False
    deleted: bool = False


@dataclass
class ChurnBook:
    """What the plan did so far: the state :func:`next_step` decides from."""

    config: ChurnConfig
    now: float = 0.0
    created: dict[str, BookEntry] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    operator_kills: int = 0
    recorder_kill_times: list[float] = field(default_factory=list)
    store_pause_times: list[float] = field(default_factory=list)
    operator_kill_budget: int = 0
    quick_deletes: list[tuple[float, str]] = field(default_factory=list)
    """(when, name): deletes promised within seconds of a create."""

    @classmethod
    def open(cls, config: ChurnConfig, rng: random.Random) -> ChurnBook:
        """A new book: draws when the recorder kills and the store pauses happen."""
        minutes = config.duration / 60
        kills = config.operator_kills
        if kills is None:
            kills = max(3, round(3 * minutes))
        recorder_kills = config.recorder_kills
        if recorder_kills is None:
            recorder_kills = 1 if minutes < 3 else rng.choice((1, 2))
        middle = (0.25 * config.duration, 0.75 * config.duration)
        return cls(
            config=config,
            operator_kill_budget=kills,
            recorder_kill_times=sorted(rng.uniform(*middle) for _ in range(recorder_kills)),
            store_pause_times=sorted(rng.uniform(*middle) for _ in range(config.store_pauses)),
        )

    def live(self) -> list[BookEntry]:
        """Created and not deleted, in creation order."""
        return [e for e in self.created.values() if not e.deleted]

    def record(self, step: Step) -> None:
        """Note a step as done (the book's only mutation)."""
        self.now = step.at
        self.steps.append(step)
        resource = step.resource
        if step.action == Action.CREATE and resource is not None:
            self.created[resource.name] = BookEntry(resource, step.at)
        elif step.action == Action.STOP and resource is not None:
            self.created[resource.name].stopped = True
        elif step.action == Action.DELETE and resource is not None:
            self.created[resource.name].deleted = True
            self.quick_deletes = [(t, n) for t, n in self.quick_deletes if n != resource.name]
        elif step.action == Action.KILL_OPERATOR:
            self.operator_kills += 1
        elif step.action == Action.KILL_RECORDER:
            self.recorder_kill_times.pop(0)
        elif step.action == Action.PAUSE_STORE:
            self.store_pause_times.pop(0)

    def count(self, action: Action) -> int:
        return sum(1 for s in self.steps if s.action == action)


def _new_resource(book: ChurnBook, rng: random.Random) -> PlannedResource:
    index = len(book.created)
    config = book.config
    return PlannedResource(
        name=f"chaos-{index:03d}",
        namespace=index % 2,
        room=rng.randrange(config.rooms),
        uid=str(800000 + index),
        release_policy=rng.choice(("Stop", "KeepInBackground")),
        restart_policy=rng.choice(("Never", "OnFailure")),
        stream_types=rng.choice(("AudioVideo", "AudioOnly")),
    )


def _restart_delay(book: ChurnBook, rng: random.Random) -> float:
    return round(rng.uniform(0.0, book.config.restart_within), 2)


def _follow_up(book: ChurnBook, rng: random.Random) -> Step | None:
    """An operator kill tied to the last step: mid-start after a create, mid-stop after a
    stop or a delete."""
    last = book.steps[-1] if book.steps else None
    if last is None or book.operator_kills >= book.operator_kill_budget:
        return None
    moments = {
        Action.CREATE: KillMoment.MID_START,
        Action.STOP: KillMoment.MID_STOP,
        Action.DELETE: KillMoment.MID_STOP,
    }
    moment = moments.get(last.action)
    if moment is None or rng.random() >= 0.45:
        return None
    return Step(
        round(last.at + rng.uniform(0.1, 1.5), 2),
        Action.KILL_OPERATOR,
        seconds=_restart_delay(book, rng),
        moment=moment,
    )


def _timed(book: ChurnBook, rng: random.Random) -> Step | None:
    """The earliest step due at a time drawn earlier: a quick delete, a recorder kill, a
    store pause."""
    due: list[tuple[float, int]] = []
    if book.quick_deletes:
        due.append((book.quick_deletes[0][0], 0))
    if book.recorder_kill_times:
        due.append((book.recorder_kill_times[0], 1))
    if book.store_pause_times:
        due.append((book.store_pause_times[0], 2))
    if not due:
        return None
    when, kind = min(due)
    at = max(book.now, round(when, 2))
    if kind == 0:
        return Step(at, Action.DELETE, book.created[book.quick_deletes[0][1]].resource)
    if kind == 1:
        return Step(at, Action.KILL_RECORDER, seconds=_restart_delay(book, rng))
    low, high = book.config.store_pause_seconds
    return Step(at, Action.PAUSE_STORE, seconds=round(rng.uniform(low, high), 1))


def next_step(book: ChurnBook, rng: random.Random) -> Step | None:
    """The step after ``book``'s last one, or None when the run's churn is over."""
    config = book.config
    follow = _follow_up(book, rng)
    if follow is not None:
        return follow
    gap = rng.uniform(0.5, 2 * config.duration / max(1, 2 * config.resources + 4))
    at = round(book.now + gap, 2)
    timed = _timed(book, rng)
    if timed is not None and timed.at <= at:
        return timed
    step = None if at >= config.duration else _churn_step(book, rng, at)
    if step is None and len(book.created) < config.resources:
        step = Step(at, Action.CREATE, _new_resource(book, rng))
    return step or timed


def _churn_step(book: ChurnBook, rng: random.Random, at: float) -> Step | None:
    """A create, stop, delete, update or operator kill at ``at``; None when nothing is left."""
    config = book.config
    live = book.live()
    creates_left = config.resources - len(book.created)
    # Creates are spread so that the last one comes before the end of the duration.
    behind = creates_left > 0 and (
        not live or at >= config.duration * (1 - creates_left / (config.resources + 1))
    )
    if creates_left > 0 and (behind or rng.random() < 0.35):
        resource = _new_resource(book, rng)
        if rng.random() < config.quick_delete_share:
            book.quick_deletes.append((round(at + rng.uniform(0.5, 4.0), 2), resource.name))
            book.quick_deletes.sort()
        return Step(at, Action.CREATE, resource)
    kills_left = book.operator_kill_budget - book.operator_kills
    # Kills not tied to a create or a stop are spread over the run.
    if kills_left > 0 and (rng.random() < 0.15 or at >= config.duration * 0.85):
        return Step(
            at, Action.KILL_OPERATOR, seconds=_restart_delay(book, rng), moment=KillMoment.ANY
        )
    promised = {name for _, name in book.quick_deletes}
    candidates = [e for e in live if e.resource.name not in promised]
    if not candidates:
        return None
    entry = rng.choice(candidates)
    resource = entry.resource
    choices = [Action.DELETE]
    if not entry.stopped:
        choices += [Action.STOP, Action.LAYOUT, Action.SUBSCRIPTION]
    action = rng.choice(choices)
    if action == Action.LAYOUT:
        return Step(at, action, resource, value=rng.choice(LAYOUTS))
    if action == Action.SUBSCRIPTION:
        return Step(at, action, resource, value=rng.choice(config.publisher_uids(resource.room)))
    return Step(at, action, resource)


def schedule(config: ChurnConfig) -> list[Step]:
    """Every step of the run with ``config``, in order (the same list for the same config)."""
    rng = random.Random(config.seed)
    book = ChurnBook.open(config, rng)
    while (step := next_step(book, rng)) is not None:
        book.record(step)
        if len(book.steps) > 10_000:
            raise RuntimeError("the churn does not end")  # a planner bug, not a run's
    return book.steps
