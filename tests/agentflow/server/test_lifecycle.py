"""A server's life around its runs: its options and registrations, /health before and after
the lifespan, the default store made only when used, runs that ended long ago (or that
another process stored) answering from the store, a token set after the app was made, and
stopping the server ending its streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from running_server import RunningServer
from served_flows import Greet, make_server
from sse_frames import collect_sse, until_question

from agentflow.server.errors import ServerConfigurationError
from agentflow.stores import MemoryStore, SqliteStore

pytestmark = pytest.mark.timeout(30)


async def test_ended_runs_beyond_keep_finished_runs_answer_from_the_store(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve(keep_finished_runs=1)
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        await client.post("/workflows/greet/run", json={"handler_id": "old", "kwargs": {}})
        await client.post("/workflows/greet/run", json={"handler_id": "new"})
        old = await client.get("/handlers/old")
        assert old.status_code == 200
        assert old.json()["result"]["value"] == {"result": "Hello, World!"}
        # A run's stream, once the run has left memory, is replayed from the store, the
        # same as a run still kept: the same seqs, ending with the terminal event.
        for handler_id in ("old-chain", "new-chain"):
            body = {"handler_id": handler_id}
            assert (await client.post("/workflows/chain/run", json=body)).status_code == 200
        old_events = await collect_sse(client, "old-chain")
        new_events = await collect_sse(client, "new-chain")
        assert len(old_events) >= 2
        assert [seq for seq, _ in old_events] == [seq for seq, _ in new_events]
        assert [frame["type"] for _, frame in old_events] == [
            frame["type"] for _, frame in new_events
        ]
        assert old_events[-1][1]["type"] == "StopEvent"
        last = old_events[-1][0]
        replayed_to_the_end = await client.get("/events/old-chain", params={"after_sequence": last})
        assert replayed_to_the_end.status_code == 204
        after_first = await collect_sse(client, "old-chain", after_sequence=old_events[0][0])
        assert after_first == old_events[1:]
        listed = (await client.get("/handlers")).json()["handlers"]
        assert sorted(h["handler_id"] for h in listed) == ["new", "new-chain", "old", "old-chain"]


async def test_a_token_set_after_the_app_was_made_applies(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve()
    server.server.token = "late"
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        assert (await client.get("/workflows")).status_code == 401
        ok = await client.get("/workflows", headers={"Authorization": "Bearer late"})
        assert ok.status_code == 200


async def test_stopping_the_server_ends_the_streams_it_serves(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve()
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        run_id = (await client.post("/workflows/tally/run-nowait", json={})).json()["run_id"]
        await until_question(client, run_id)
        async with client.stream(
            "GET", f"/events/{run_id}", params={"sse": "false", "after_sequence": -1}
        ) as response:
            lines = response.aiter_lines()
            assert json.loads(await anext(lines))["type"] == "InputRequiredEvent"
            stopping = asyncio.create_task(asyncio.to_thread(server.stop))
            assert [line async for line in lines] == []
            await stopping


def test_bad_options_and_registrations_are_refused() -> None:
    with pytest.raises(ServerConfigurationError, match="max_body_bytes must be positive"):
        make_server(max_body_bytes=0)
    with pytest.raises(ServerConfigurationError, match="keep_finished_runs must be 0 or more"):
        make_server(keep_finished_runs=-1)
    server = make_server()
    with pytest.raises(ServerConfigurationError, match="a workflow named 'greet' is already"):
        server.add_workflow("greet", Greet())
    with pytest.raises(ServerConfigurationError, match="has a store of its own"):
        server.add_workflow("other", Greet(store=MemoryStore()))
    with pytest.raises(ServerConfigurationError, match="not an Event class"):
        server.add_workflow("third", Greet(), additional_events=[int])  # type: ignore[list-item]
    mine = Greet()
    server.add_workflow("mine", mine)
    assert mine.store is None  # the server runs a copy bound to its store


async def test_health_is_503_until_the_lifespan_has_run() -> None:
    transport = httpx.ASGITransport(app=make_server().app)  # runs no lifespan
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/health")
    assert (response.status_code, response.json()) == (503, {"status": "unhealthy"})


async def test_runs_another_process_stored_answer_from_the_store(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve()
    store = server.server.store
    assert isinstance(store, SqliteStore)
    greet = "served_flows:Greet"
    async with SqliteStore(store.path) as writer:
        await writer.create_run("odd", greet, None)
        await writer.write("odd", status="completed", result='"not an object"')
        await writer.create_run("broke", greet, None)
        await writer.write("broke", status="failed", result='{"error": "boom"}')
        await writer.create_run("alien", "elsewhere:Flow", None)
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as client:
        odd = (await client.get("/handlers/odd")).json()
        assert (odd["status"], odd["result"], odd["result_unreadable"]) == (
            "completed",
            None,
            True,
        )
        broke = await client.get("/handlers/broke")
        assert (broke.status_code, broke.json()["error"]) == (500, "boom")
        # A run of a workflow this server does not serve is not its business.
        assert (await client.get("/handlers/alien")).status_code == 404
        assert (
            await client.post("/events/broke", json={"event": {"type": "X"}})
        ).status_code == 409


def test_the_default_store_makes_no_file_until_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTFLOW_SERVER_TOKEN", raising=False)
    server = make_server()
    assert server.app is server.app
    store = server.store
    assert isinstance(store, SqliteStore)
    assert store.path == Path("agentflow-runs.db")
    assert list(tmp_path.iterdir()) == []
