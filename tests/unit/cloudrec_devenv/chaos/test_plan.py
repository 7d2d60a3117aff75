"""The chaos planner: the same seed gives the same churn, and the churn covers what it must."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from cloudrec_devenv.chaos.plan import (
    Action,
    ChurnBook,
    ChurnConfig,
    KillMoment,
    Step,
    next_step,
    schedule,
)

SEEDS = range(40)


def test_the_same_seed_gives_the_same_steps() -> None:
    assert schedule(ChurnConfig(seed=11)) == schedule(ChurnConfig(seed=11))


def test_different_seeds_give_different_steps() -> None:
    assert schedule(ChurnConfig(seed=11)) != schedule(ChurnConfig(seed=12))


@pytest.mark.parametrize("seed", SEEDS)
def test_steps_are_in_time_order_and_end_soon_after_the_duration(seed: int) -> None:
    config = ChurnConfig(seed=seed)
    steps = schedule(config)
    times = [s.at for s in steps]
    assert times == sorted(times)
    assert times[-1] <= config.duration + 10


@pytest.mark.parametrize("seed", SEEDS)
def test_every_resource_is_created_once_and_touched_only_while_it_exists(seed: int) -> None:
    config = ChurnConfig(seed=seed, resources=9)
    steps = schedule(config)
    created: set[str] = set()
    deleted: set[str] = set()
    stopped: set[str] = set()
    for step in steps:
        if step.resource is None:
            continue
        name = step.resource.name
        if step.action == Action.CREATE:
            assert name not in created
            created.add(name)
            continue
        assert name in created and name not in deleted, step.describe()
        if step.action in (Action.LAYOUT, Action.SUBSCRIPTION, Action.STOP):
            assert name not in stopped, f"{step.describe()} after the stop"
        if step.action == Action.STOP:
            stopped.add(name)
        if step.action == Action.DELETE:
            deleted.add(name)
    assert len(created) == config.resources


@pytest.mark.parametrize("seed", SEEDS)
def test_the_process_faults_come_in_the_numbers_asked_for(seed: int) -> None:
    config = ChurnConfig(seed=seed, duration=60.0)
    counts = Counter(s.action for s in schedule(config))
    assert counts[Action.KILL_OPERATOR] == 3
    assert counts[Action.KILL_RECORDER] == 1
    assert counts[Action.PAUSE_STORE] == 1


def test_a_long_run_kills_the_operator_about_three_times_a_minute() -> None:
    steps = schedule(ChurnConfig(seed=3, duration=300.0, resources=30))
    kills = [s for s in steps if s.action == Action.KILL_OPERATOR]
    assert len(kills) == 15
    assert 1 <= sum(1 for s in steps if s.action == Action.KILL_RECORDER) <= 2


def test_kills_restart_within_the_bound_and_pauses_last_as_configured() -> None:
    config = ChurnConfig(seed=5, restart_within=3.0, store_pause_seconds=(8.0, 15.0))
    for seed in SEEDS:
        for step in schedule(ChurnConfig(seed=seed)):
            if step.action in (Action.KILL_OPERATOR, Action.KILL_RECORDER):
                assert 0.0 <= step.seconds <= config.restart_within
            if step.action == Action.PAUSE_STORE:
                assert 8.0 <= step.seconds <= 15.0


def test_over_many_seeds_every_kind_of_step_and_policy_appears() -> None:
    actions: Counter[Action] = Counter()
    moments: Counter[KillMoment] = Counter()
    policies: set[tuple[str, str]] = set()
    namespaces: set[int] = set()
    for seed in range(10):
        for step in schedule(ChurnConfig(seed=seed)):
            actions[step.action] += 1
            if step.moment is not None:
                moments[step.moment] += 1
            if step.action == Action.CREATE and step.resource is not None:
                policies.add((step.resource.release_policy, step.resource.restart_policy))
                namespaces.add(step.resource.namespace)
    assert set(actions) == set(Action)
    assert set(moments) == set(KillMoment)
    assert policies == {
        (release, restart)
        for release in ("Stop", "KeepInBackground")
        for restart in ("Never", "OnFailure")
    }
    assert namespaces == {0, 1}


def test_some_resources_are_deleted_within_seconds_of_their_creation() -> None:
    quick = 0
    for seed in range(10):
        created: dict[str, float] = {}
        for step in schedule(ChurnConfig(seed=seed)):
            if step.resource is None:
                continue
            if step.action == Action.CREATE:
                created[step.resource.name] = step.at
            elif step.action == Action.DELETE and step.at - created[step.resource.name] <= 4:
                quick += 1
    assert quick >= 10


def test_a_kill_after_a_create_is_mid_start_and_comes_within_seconds() -> None:
    found = False
    for seed in range(50):
        for before, step in zip(
            schedule(ChurnConfig(seed=seed)), schedule(ChurnConfig(seed=seed))[1:], strict=False
        ):
            if step.moment == KillMoment.MID_START:
                assert before.action == Action.CREATE
                assert step.at - before.at <= 1.5
                found = True
            if step.moment == KillMoment.MID_STOP:
                assert before.action in (Action.STOP, Action.DELETE)
    assert found


def test_the_next_step_follows_from_the_book_alone() -> None:
    config = ChurnConfig(seed=9)
    first_rng, second_rng = random.Random(9), random.Random(9)
    first = ChurnBook.open(config, first_rng)
    second = ChurnBook.open(config, second_rng)
    for _ in range(12):
        a, b = next_step(first, first_rng), next_step(second, second_rng)
        assert a == b
        assert isinstance(a, Step)
        first.record(a)
        second.record(b)


def test_a_step_describes_itself_on_one_line() -> None:
    step = next(s for s in schedule(ChurnConfig(seed=2)) if s.action == Action.CREATE)
    line = step.describe()
    assert "\n" not in line and "Create chaos-000" in line and "release=" in line
