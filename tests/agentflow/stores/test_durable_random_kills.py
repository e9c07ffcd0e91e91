"""A bounded loop of random kill points: a durable run of a workflow with every shape the
journal records (durable_random_flows.py) is killed with SIGKILL in a child process, at a
point picked at random, resumed in another child, killed again at another point, and so
on, then resumed to its end; a resume of a resumed run is where a journal's bugs hide.

Kill points are counted in the lines the child prints (never timed), picked by a seeded
`random.Random`: the seed is in every failure message, and `AGENTFLOW_KILL_SEED=<seed>`
replays its kill points (the child still runs on for a moment after the line the test
waited for, so a replay is close, not exact).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from durable_random_flows import IN_FLIGHT_AT_MOST
from postgres_databases import DATABASES

from agentflow.stores import open_store

FLOWS = Path(__file__).with_name("durable_random_flows.py")
SEED_VARIABLE = "AGENTFLOW_KILL_SEED"
ROUNDS = 12
MOST_KILLS_PER_ROUND = 4
HUNG_AFTER_SECONDS = 60
RESUMED = "== resumed after a kill"
"""What the test writes to the side-effect log between the children of one run."""


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    return DATABASES.fresh_url()


def child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(FLOWS), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Lifetime:
    """What one child printed: its executions and stream events, and its result line
    (None when it was killed first)."""

    printed: list[str] = field(default_factory=list)
    result: str | None = None


def run_until(process: subprocess.Popen[str], kill_at: int | None, seed: int) -> Lifetime:
    """Read what the child prints; once it has printed `kill_at` lines, kill it with
    SIGKILL. A child that ends first (or with `kill_at=None`) gives its result."""
    assert process.stdout is not None
    lifetime = Lifetime()
    # Not a synchronisation: a child that hangs is killed, so that the test fails saying
    # so (and leaves no process behind) instead of blocking on its output forever.
    watchdog = threading.Timer(HUNG_AFTER_SECONDS, process.kill)
    watchdog.start()
    try:
        while kill_at is None or len(lifetime.printed) < kill_at:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("result:"):
                lifetime.result = line.removeprefix("result:").strip()
                break
            lifetime.printed.append(line.strip())
        if lifetime.result is None and len(lifetime.printed) == kill_at:
            os.kill(process.pid, signal.SIGKILL)
        _, err = process.communicate(timeout=HUNG_AFTER_SECONDS)
    finally:
        watchdog.cancel()
    if lifetime.result is None and len(lifetime.printed) == kill_at:
        return lifetime
    assert process.returncode == 0, f"{SEED_VARIABLE}={seed}: the child failed or hung: {err}"
    assert lifetime.result is not None, f"{SEED_VARIABLE}={seed}: no result line"
    return lifetime


def executions(log: str) -> list[list[str]]:
    """The log's step executions, one list per child of the run."""
    children: list[list[str]] = [[]]
    for line in log.splitlines():
        if line == RESUMED:
            children.append([])
        elif not line.startswith("once:"):
            children[-1].append(line)
    return children


async def stored_status(url: str, run_id: str) -> str | None:
    async with open_store(url) as store:
        info = await store.get_run(run_id)
        return None if info is None else info.status


def check_once_calls(log: str, kills: int, why: str) -> None:
    """A `ctx.once` function is called again only when its step was killed before the
    call was journalled: never after the step went on past it (it prints its line only
    once `once` returned, which is after the journal had the result); at most once more
    per kill; always with the same idempotency key."""
    lines = log.splitlines()
    calls: dict[str, list[int]] = {}
    keys: dict[str, set[str]] = {}
    for index, line in enumerate(lines):
        if line.startswith("once:"):
            then, key = line.removeprefix("once:").split(" ")
            calls.setdefault(then, []).append(index)
            keys.setdefault(then, set()).add(key)
    assert {"begin", "answered:yes"} <= calls.keys(), f"{why}: once calls {sorted(calls)}"
    # The run's first call, journalled before the first line the test can kill after.
    assert len(calls["begin"]) == 1, f"{why}: the first ctx.once was called again"
    for then, made in calls.items():
        where = f"{why}: the ctx.once before {then!r}"
        assert len(made) <= 1 + kills, f"{where} was called {len(made)} times"
        assert len(keys[then]) == 1, f"{where} had keys {sorted(keys[then])}"
        assert made[-1] < lines.index(then), f"{where} was called after it was journalled"


# About 40 children of ~0.4 s each: 15 s on an idle machine, more on a busy one.
@pytest.mark.timeout(180)
def test_random_kill_points_over_a_mixed_run_never_repeat_a_completed_execution(
    tmp_path: Path, store_url: str
) -> None:
    seed = int(os.environ.get(SEED_VARIABLE) or random.SystemRandom().randrange(10**9))
    picks = random.Random(seed)
    reference_log = tmp_path / "reference.log"
    reference = run_until(
        child("start", store_url, str(reference_log), "reference"), kill_at=None, seed=seed
    )
    expected = Counter(executions(reference_log.read_text())[0])
    assert max(expected.values()) == 1
    total_lines = len(reference.printed)

    for round_number in range(ROUNDS):
        run_id, log = f"round-{round_number}", tmp_path / f"round-{round_number}.log"
        planned = picks.randint(1, MOST_KILLS_PER_ROUND)
        kill_points: list[int] = []
        lifetimes: list[Lifetime] = []
        command, lifetime, seen = "start", Lifetime(), 0
        while lifetime.result is None:
            kill_at = None
            if len(kill_points) < planned:
                # Somewhere in what is left (the child may end first: then no kill).
                kill_at = picks.randint(1, max(1, total_lines - seen))
                kill_points.append(kill_at)
            lifetime = run_until(child(command, store_url, str(log), run_id), kill_at, seed)
            lifetimes.append(lifetime)
            seen += len(lifetime.printed)
            if lifetime.result is None:
                with log.open("a") as appended:
                    appended.write(RESUMED + "\n")
            command = "resume"
        why = f"{SEED_VARIABLE}={seed}, round {round_number}, kill points (lines) {kill_points}"

        assert lifetime.result == reference.result, why
        assert asyncio.run(stored_status(store_url, run_id)) == "completed", why
        text = log.read_text()
        children = executions(text)
        kills = len(children) - 1
        for number, ran in enumerate(children):
            assert max(Counter(ran).values(), default=1) == 1, f"{why}: child {number}: {ran}"
            before = {line for earlier in children[:number] for line in earlier}
            again = sorted(before.intersection(ran))
            assert len(again) <= IN_FLIGHT_AT_MOST, f"{why}: child {number} ran again {again}"
            streamed = [line for line in lifetimes[number].printed if line.startswith("streamed:")]
            assert max(Counter(streamed).values(), default=1) == 1, f"{why}: {streamed}"
        assert {line for ran in children for line in ran} == set(expected), why
        check_once_calls(text, kills, why)
