"""The DBOS runner through a server replica, with one worker process: events and cancels
posted to parked and running runs, retries with an Idempotency-Key, the requests it refuses,
and a run whose enqueue was lost (its poster died) being taken up by a worker's reaper."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cluster import Cluster, activation_result
from cluster_flows import ChainStart
from postgres_databases import DATABASES
from sse_frames import answer, sse_frames

from agentflow.context.serializers import JsonSerializer
from agentflow.runners.dbos.board import RunBoard
from agentflow.stores.postgres import PostgresStore

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def solo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, str]]:
    """One worker (leases of 1 s) and one replica on a database of this module's."""
    made = Cluster(DATABASES.fresh_url(), tmp_path_factory.mktemp("solo") / "steps.log")
    try:
        made.worker("solo", lease_seconds=1.0)
        _, url = made.replica()
        yield made, url
    finally:
        made.close()
        DATABASES.drop_made()


@pytest.fixture
async def client(solo: tuple[Cluster, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=solo[1], timeout=30) as opened:
        yield opened


async def start(client: httpx.AsyncClient, workflow: str, run_id: str, **fields: Any) -> None:
    response = await client.post(
        f"/workflows/{workflow}/run-nowait", json={"handler_id": run_id, "start_event": fields}
    )
    assert response.status_code == 200, response.text


async def frames(client: httpx.AsyncClient, run_id: str) -> list[tuple[str, Any]]:
    async with client.stream("GET", f"/events/{run_id}") as response:
        assert response.status_code == 200, await response.aread()
        return [(frame["type"], frame["value"]) async for _, frame in sse_frames(response)]


async def parked(solo: tuple[Cluster, str], run_id: str) -> None:
    assert await activation_result(solo[0].dsn, run_id, 1) == "parked"


async def test_an_answer_retried_with_its_key_reaches_the_parked_run_once(
    solo: tuple[Cluster, str], client: httpx.AsyncClient
) -> None:
    await start(client, "asks", "idem", word="idem")
    await parked(solo, "idem")
    shown = (await client.get("/handlers/idem")).json()
    assert shown["status"] == "running"
    assert [q["value"]["prefix"] for q in shown["questions"]] == ["name?"]
    sent = await asyncio.gather(
        *(
            client.post("/events/idem", json=answer("Idem"), headers={"Idempotency-Key": "k"})
            for _ in range(3)
        )
    )
    assert [response.status_code for response in sent] == [200, 200, 200]
    assert [kind for kind, _ in await frames(client, "idem")] == [
        "InputRequiredEvent",
        "StopEvent",
    ]
    assert (await client.get("/handlers/idem")).json()["result"]["value"]["result"] == "hello Idem"
    # One activation woke it; the step that took the answer ran once.
    assert await activation_result(solo[0].dsn, "idem", 2) == "ended"
    assert solo[0].starts().count(("Idem", "greet", "solo")) == 1
    # After its end, a retry with the key is harmless and one without is refused.
    late = await client.post("/events/idem", json=answer("x"), headers={"Idempotency-Key": "k"})
    assert late.status_code == 200
    assert (await client.post("/events/idem", json=answer("x"))).status_code == 409


async def test_a_run_waiting_inside_its_step_parks_once_it_has_asked(
    solo: tuple[Cluster, str], client: httpx.AsyncClient
) -> None:
    await start(client, "waits", "in-step", word="in-step")
    async with client.stream("GET", "/events/in-step") as response:
        async for _, frame in sse_frames(response):
            assert frame["type"] == "InputRequiredEvent"
            break
    await parked(solo, "in-step")
    response = await client.post("/events/in-step", json=answer("Wanda"))
    assert response.status_code == 200, response.text
    assert (await frames(client, "in-step"))[-1] == ("StopEvent", {"result": "hello Wanda"})
    assert await activation_result(solo[0].dsn, "in-step", 2) == "ended"


async def test_a_parked_wait_times_out_when_its_timeout_passes(
    solo: tuple[Cluster, str], client: httpx.AsyncClient
) -> None:
    await start(client, "waits", "unanswered", word="unanswered", timeout=1.5)
    await parked(solo, "unanswered")
    # Nobody answers: the reaper wakes the run at its wait's deadline, and the wait times
    # out as it would have in memory.
    assert (await frames(client, "unanswered"))[-1] == ("StopEvent", {"result": "nobody"})
    assert solo[0].starts().count(("unanswered", "ask", "solo")) == 2


async def test_a_parked_run_is_cancelled_through_the_replica(
    solo: tuple[Cluster, str], client: httpx.AsyncClient
) -> None:
    await start(client, "asks", "to-cancel", word="to-cancel")
    await parked(solo, "to-cancel")
    response = await client.post("/handlers/to-cancel/cancel")
    assert response.status_code == 200, response.text
    assert (await client.get("/handlers/to-cancel")).json()["status"] == "cancelled"
    assert [kind for kind, _ in await frames(client, "to-cancel")] == [
        "InputRequiredEvent",
        "WorkflowCancelledEvent",
    ]
    assert (await client.post("/handlers/to-cancel/cancel")).status_code == 409


async def test_what_the_replica_refuses(
    solo: tuple[Cluster, str], client: httpx.AsyncClient
) -> None:
    assert (await client.post("/events/nobody", json=answer("x"))).status_code == 404
    await start(client, "asks", "taken", word="taken")
    again = await client.post(
        "/workflows/asks/run-nowait", json={"handler_id": "taken", "start_event": {}}
    )
    assert again.status_code == 409
    await parked(solo, "taken")
    wrong_step = await client.post("/events/taken", json={**answer("x"), "step": "nope"})
    assert wrong_step.status_code == 400
    assert "no step 'nope'" in wrong_step.json()["detail"]
    refused = await client.post("/events/taken", json={**answer("x"), "step": "ask"})
    assert refused.status_code == 400
    assert "does not accept HumanResponseEvent" in refused.json()["detail"]
    # Nothing of those reached the run: it is still parked, its inbox empty.
    board = RunBoard(PostgresStore(solo[0].dsn))
    try:
        run = await board.get("taken")
        assert run is not None
        assert (run.state, run.activation) == ("parked", 1)
        assert await board.inbox("taken") == []
    finally:
        await board.store.close()


async def test_a_run_whose_enqueue_was_lost_is_taken_up_by_the_reaper(
    solo: tuple[Cluster, str], client: httpx.AsyncClient
) -> None:
    # A replica that died between adding the run and enqueueing it left only this.
    store = PostgresStore(solo[0].dsn)
    try:
        text = JsonSerializer().serialize(ChainStart(word="lost"), "start_event")
        assert await RunBoard(store).add("lost", "chain", text)
    finally:
        await store.close()
    result = await frames(client, "lost")
    assert result[-1] == ("StopEvent", {"result": "lost-first-second-third"})
    assert await activation_result(solo[0].dsn, "lost", 2) == "ended"


async def test_pruning_ended_runs_drops_their_runner_rows(
    solo: tuple[Cluster, str], client: httpx.AsyncClient
) -> None:
    await start(client, "chain", "to-prune", word="to-prune")
    assert (await frames(client, "to-prune"))[-1][0] == "StopEvent"
    store = PostgresStore(solo[0].dsn)
    try:
        board = RunBoard(store)
        assert await board.get("to-prune") is not None
        assert await store.prune(timedelta(0)) >= 1
        assert await store.get_run("to-prune") is None
        assert await board.get("to-prune") is None
    finally:
        await store.close()
