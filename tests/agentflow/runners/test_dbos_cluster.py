"""Runs distributed by DBOS over two worker processes and followed through server replicas,
all real processes on 127.0.0.1 and one PostgreSQL database: a worker killed with SIGKILL
mid-run has its runs finished by the other, no step that had completed runs again, a run
waiting for a human releases its worker and completes once answered through a replica, and
a client following a run's stream through any replica sees every event once."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cluster import Cluster, Gate, activation_result
from sse_frames import answer, sse_frames

pytestmark = pytest.mark.timeout(90)

CHAINS = 19


@pytest.fixture
def gate() -> Iterator[Gate]:
    made = Gate()
    yield made
    made.stop()


@pytest.fixture
def cluster(dsn: str, tmp_path: Path, gate: Gate) -> Any:
    made = Cluster(dsn, tmp_path / "steps.log", gate)
    yield made
    made.close()


async def follow(client: httpx.AsyncClient, run_id: str) -> list[tuple[int, str, Any]]:
    """`(seq, type, value)` of every SSE frame of the run, until the stream ends."""
    async with client.stream("GET", f"/events/{run_id}") as response:
        assert response.status_code == 200, await response.aread()
        return [(seq, frame["type"], frame["value"]) async for seq, frame in sse_frames(response)]


async def test_a_worker_killed_mid_run_leaves_its_runs_to_the_other(
    cluster: Cluster, gate: Gate, dsn: str
) -> None:
    victim = cluster.worker("w1")
    cluster.worker("w2")
    _, first_url = cluster.replica()
    _, second_url = cluster.replica()
    async with (
        httpx.AsyncClient(base_url=first_url, timeout=60) as first,
        httpx.AsyncClient(base_url=second_url, timeout=60) as second,
    ):
        response = await second.post(
            "/workflows/asks/run-nowait",
            json={"handler_id": "human", "start_event": {"word": "human"}},
        )
        assert response.status_code == 200, response.text
        human = asyncio.ensure_future(follow(first, "human"))
        # The waiting run releases its worker: its activation ends, parked.
        assert await activation_result(dsn, "human", 1) == "parked"

        for n in range(CHAINS):
            response = await first.post(
                "/workflows/chain/run-nowait",
                json={"handler_id": f"c{n}", "start_event": {"word": f"c{n}"}},
            )
            assert response.status_code == 200, response.text
        # Every chain is followed from its start, half through each replica.
        streams = {
            f"c{n}": asyncio.ensure_future(follow(first if n % 2 else second, f"c{n}"))
            for n in range(CHAINS)
        }
        streams["human"] = human

        # Each worker holds as many chains at the gate as it may run at once (the others
        # wait in the queue), their first step completed.
        await gate.until_waiting(16)
        held = {word for word, step, worker in cluster.starts() if step == "second"}
        by_victim = {
            w for w, step, worker in cluster.starts() if step == "second" and worker == "w1"
        }
        assert by_victim, "w1 took no chain"
        assert held - by_victim, "w2 took no chain"
        victim.kill()
        gate.open()

        response = await first.post("/events/human", json=answer("Ada"))
        assert response.status_code == 200, response.text

        followed = {run_id: await stream for run_id, stream in streams.items()}

    for n in range(CHAINS):
        frames = followed[f"c{n}"]
        # Every event once, in order, numbered without a gap, across the kill.
        assert [seq for seq, _, _ in frames] == list(range(len(frames)))
        assert [(kind, value.get("step_name")) for _, kind, value in frames] == [
            ("Progress", "first"),
            ("Progress", "second"),
            ("Progress", "third"),
            ("StopEvent", None),
        ]
        assert frames[-1][2]["result"] == f"c{n}-first-second-third"
    human = followed["human"]
    assert [kind for _, kind, _ in human] == ["InputRequiredEvent", "StopEvent"]
    assert human[-1][2]["result"] == "hello Ada"

    starts = cluster.starts()
    ran: dict[tuple[str, str], list[str]] = defaultdict(list)
    for word, step, worker in starts:
        ran[word, step].append(worker)
    # The victim's in-flight steps ran again elsewhere; nothing it had completed did.
    assert {key for key, workers in ran.items() if len(workers) > 1} <= {
        (word, "second") for word in by_victim
    }
    for word in by_victim:
        assert ran[word, "first"] == ["w1"]  # completed before the kill: not run again
        assert ran[word, "second"] == ["w1", "w2"]
        assert ran[word, "third"] == ["w2"]
    assert len(ran["human", "ask"]) == 1
    assert len(ran["Ada", "greet"]) == 1
