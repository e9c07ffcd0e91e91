"""`POST /events/{id}` on a real server: the human's answer in the shape llama-agents-client
sends, journalled before the answer, every refusal with its code, and `Idempotency-Key`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from running_server import RunningServer
from served_flows import make_server
from sse_frames import answer, collect_sse, until_question

from agentflow.stores import SqliteStore

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def server(serve: Callable[..., RunningServer]) -> RunningServer:
    return serve()


@pytest.fixture
async def client(server: RunningServer) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        yield client


async def waiting_tally(client: httpx.AsyncClient) -> str:
    run_id: str = (await client.post("/workflows/tally/run-nowait", json={})).json()["run_id"]
    await until_question(client, run_id)
    return run_id


async def finish(client: httpx.AsyncClient, run_id: str) -> list[str]:
    await client.post(f"/events/{run_id}", json=answer("end"))
    frames = await collect_sse(client, run_id, after_sequence=-1)
    result: list[str] = frames[-1][1]["value"]["result"]
    return result


async def test_the_answer_is_in_the_store_when_the_post_returns(
    client: httpx.AsyncClient, server: RunningServer
) -> None:
    run_id = await waiting_tally(client)
    sent = await client.post(f"/events/{run_id}", json=answer("kept"))
    assert sent.json() == {"status": "sent"}
    store = server.server.store
    assert isinstance(store, SqliteStore)
    # Read from another connection to the same file: the record is durable, not queued.
    async with SqliteStore(store.path) as reader:
        stored = await reader.load(run_id)
    sent_records = [record for record in stored.records if record.kind == "sent"]
    assert len(sent_records) == 1
    assert "kept" in sent_records[0].data
    assert await finish(client, run_id) == ["kept"]


@pytest.mark.parametrize(
    "event",
    [
        {"type": "HumanResponseEvent", "value": {"response": "plain"}},
        {"type": "HumanResponseEvent", "data": {"response": "plain"}},
        '{"type": "HumanResponseEvent", "value": {"_data": {"response": "plain"}}}',
        {"qualified_name": "agentflow.events.HumanResponseEvent", "value": {"response": "plain"}},
    ],
)
async def test_envelope_shapes(client: httpx.AsyncClient, event: object) -> None:
    run_id = await waiting_tally(client)
    assert (await client.post(f"/events/{run_id}", json={"event": event})).status_code == 200
    assert await finish(client, run_id) == ["plain"]


async def test_a_retried_post_with_its_idempotency_key_is_sent_once(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_tally(client)
    headers = {"Idempotency-Key": "answer-1"}
    first, retry = await asyncio.gather(
        client.post(f"/events/{run_id}", json=answer("once"), headers=headers),
        client.post(f"/events/{run_id}", json=answer("once"), headers=headers),
    )
    late = await client.post(f"/events/{run_id}", json=answer("once"), headers=headers)
    assert {first.status_code, retry.status_code, late.status_code} == {200}
    other = await client.post(
        f"/events/{run_id}", json=answer("twice"), headers={"Idempotency-Key": "answer-2"}
    )
    assert other.status_code == 200
    assert await finish(client, run_id) == ["once", "twice"]


async def test_an_idempotency_key_over_255_characters_is_refused(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_tally(client)
    long = await client.post(
        f"/events/{run_id}", json=answer("x"), headers={"Idempotency-Key": "k" * 256}
    )
    assert (long.status_code, long.json()["detail"]) == (
        400,
        "Idempotency-Key: 1 to 255 characters, got 256",
    )
    assert await finish(client, run_id) == []


async def test_refusals(client: httpx.AsyncClient) -> None:
    run_id = await waiting_tally(client)
    cases = [
        (b"nope", 400, "request body is not JSON"),
        (b'{"event": {}}', 400, "event: an event envelope {type, value} is required"),
        (b'{"event": {"value": {}}}', 400, "event: the envelope names no event class"),
        (
            b'{"event": {"type": "Nope", "value": {}}}',
            400,
            "event: 'Nope' is not an event of workflow 'tally'; it takes "
            "HumanResponseEvent, InputRequiredEvent, Rating",
        ),
        (
            b'{"event": {"qualified_name": "os.system", "value": {}}}',
            400,
            "event: 'os.system' is not an event of workflow 'tally'",
        ),
        (
            b'{"event": {"type": "StopEvent", "value": {}}}',
            400,
            "event: a StopEvent cannot be sent into a running run",
        ),
        (
            b'{"event": {"type": "HumanResponseEvent", "value": {}}, "step": "nope"}',
            400,
            "step:",
        ),
    ]
    for body, status, detail in cases:
        response = await client.post(
            f"/events/{run_id}", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == status, (body, response.text)
        assert response.json()["detail"].startswith(detail), (body, response.json())
    invalid = await client.post(
        f"/events/{run_id}", json={"event": {"type": "Rating", "value": {"stars": "many"}}}
    )
    assert invalid.status_code == 422
    assert invalid.json() == {
        "detail": "event: invalid Rating (event.stars)",
        "errors": [
            {
                "loc": ["event", "stars"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            }
        ],
    }
    missing = await client.post("/events/nope", json=answer("x"))
    assert (missing.status_code, missing.json()) == (404, {"detail": "no run 'nope'"})
    assert await finish(client, run_id) == []
    ended = await client.post(f"/events/{run_id}", json=answer("late"))
    assert (ended.status_code, ended.json()) == (
        409,
        {"detail": f"run {run_id!r} has ended (completed)"},
    )


async def test_an_answer_over_the_stores_record_limit_is_413_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    running = RunningServer(make_server(SqliteStore(tmp_path / "small.db", max_record_bytes=2_000)))
    running.start()
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=10) as small:
            run_id = await waiting_tally(small)
            refused = await small.post(f"/events/{run_id}", json=answer("x" * 5_000))
            assert refused.status_code == 413
            assert "HumanResponseEvent" in refused.json()["detail"]
            assert (await small.post(f"/events/{run_id}", json=answer("fits"))).status_code == 200
            assert await finish(small, run_id) == ["fits"]
    finally:
        running.stop()
