"""A worker lets a run go when it stops (SIGTERM: the run is queued again, for another
worker, at once) and when it lost the run's lease to another worker (it stops driving it,
and writes nothing more); either way the run completes elsewhere, and only the step that
was in flight runs again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from cluster import Cluster, Gate, activation_result
from sse_frames import sse_frames

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def gate() -> Iterator[Gate]:
    made = Gate()
    yield made
    made.stop()


@pytest.fixture
def cluster(dsn: str, tmp_path: Path, gate: Gate) -> Iterator[Cluster]:
    made = Cluster(dsn, tmp_path / "steps.log", gate)
    yield made
    made.close()


@pytest.fixture
async def client(cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    _, url = cluster.replica()
    async with httpx.AsyncClient(base_url=url, timeout=30) as opened:
        yield opened


async def start_chain(client: httpx.AsyncClient, word: str) -> None:
    response = await client.post(
        "/workflows/chain/run-nowait", json={"handler_id": word, "start_event": {"word": word}}
    )
    assert response.status_code == 200, response.text


async def result(client: httpx.AsyncClient, run_id: str) -> Any:
    async with client.stream("GET", f"/events/{run_id}") as response:
        frames = [frame async for _, frame in sse_frames(response)]
    assert [frame["type"] for frame in frames] == ["Progress"] * 3 + ["StopEvent"]
    return frames[-1]["value"]["result"]


async def test_a_worker_stopped_with_sigterm_queues_its_runs_for_another(
    cluster: Cluster, gate: Gate, client: httpx.AsyncClient
) -> None:
    leaving = cluster.worker("leaving", lease_seconds=30.0)
    await start_chain(client, "handed-over")
    await gate.until_waiting(1)
    cluster.worker("staying", lease_seconds=30.0)
    leaving.stop()  # SIGTERM; its lease of 30 s would hold the run that long
    assert leaving.process.returncode == 0, "".join(leaving.log)
    gate.open()
    assert await result(client, "handed-over") == "handed-over-first-second-third"
    assert await activation_result(cluster.dsn, "handed-over", 1) == "released"
    assert cluster.starts() == [
        ("handed-over", "first", "leaving"),
        ("handed-over", "second", "leaving"),
        ("handed-over", "second", "staying"),
        ("handed-over", "third", "staying"),
    ]


async def test_a_worker_that_lost_a_runs_lease_lets_the_run_go(
    cluster: Cluster, gate: Gate, client: httpx.AsyncClient
) -> None:
    cluster.worker("only", lease_seconds=1.0)
    await start_chain(client, "taken-over")
    await gate.until_waiting(1)
    # As if another worker had taken the run over after a stall of this one.
    with psycopg.connect(cluster.dsn, autocommit=True) as connection:
        connection.execute(
            "UPDATE agentflow_runner_runs SET owner = 'another' WHERE run_id = 'taken-over'"
        )
    assert await activation_result(cluster.dsn, "taken-over", 1) == "superseded"
    # Nothing more was written for it: the step it ran is still in flight in the store.
    with psycopg.connect(cluster.dsn, autocommit=True) as connection:
        status = connection.execute(
            "SELECT status FROM agentflow_runs WHERE run_id = 'taken-over'"
        ).fetchone()
    assert status == ("running",)
    gate.open()
    # The other worker never comes: the lease runs out, and the reaper queues the run again.
    assert await result(client, "taken-over") == "taken-over-first-second-third"
    assert [step for _, step, _ in cluster.starts()] == ["first", "second", "second", "third"]
