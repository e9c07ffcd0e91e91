"""llama-agents-client's `WorkflowClient` (the reference's own client, from PyPI) against a
real agentflow server: run, stream, answer, read the result, list, cancel."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from running_server import RunningServer

pytest.importorskip("llama_agents.client")
from llama_agents.client import WorkflowClient
from workflows.events import HumanResponseEvent, StartEvent

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


async def test_the_reference_client_runs_streams_and_answers(base_url: str) -> None:
    client = WorkflowClient(base_url=base_url)
    assert await client.is_healthy()
    assert "ask" in (await client.list_workflows()).workflows
    ran = await client.run_workflow("greet", start_event=StartEvent(name="Ada"))
    assert ran.status == "completed"
    assert ran.result is not None
    assert ran.result.value == {"result": "Hello, Ada!"}

    started = await client.run_workflow_nowait("ask")
    seen: list[str] = []
    stream = client.get_workflow_events(started.handler_id)
    async for event in stream:
        seen.append(event.type)
        if event.type == "InputRequiredEvent":
            assert event.value == {"prefix": "Name? "}
            sent = await client.send_event(started.handler_id, HumanResponseEvent(response="Zed"))
            assert sent.status == "sent"
    assert seen == ["InputRequiredEvent", "StopEvent"]
    assert stream.last_sequence == 1
    done = await client.wait_for_handler(started.handler_id, timeout=10, poll_interval=0.01)
    assert done.status == "completed"
    assert done.result is not None
    assert done.result.value == {"result": {"got": "Zed"}}
    handlers = await client.get_handlers(status=["completed"], workflow_name=["ask"])
    assert [h.handler_id for h in handlers.handlers] == [started.handler_id]
    graph = await client.get_workflow_graph("greet")
    assert graph.graph.name == "Greet"
    schema = await client.get_workflow_schema("count")
    assert schema.start["title"] == "Topic"


async def test_the_reference_client_cancels_and_sends_a_token(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve(token="t0k")
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": "Bearer t0k"}
    ) as http:
        client = WorkflowClient(httpx_client=http)
        started = await client.run_workflow_nowait("count", start_event={"topic": "x"})
        cancelled = await client.cancel_handler(started.handler_id)
        assert cancelled.status == "cancelled"
        with pytest.raises(httpx.HTTPStatusError, match="500"):
            await client.get_handler(started.handler_id)
    with pytest.raises(httpx.HTTPStatusError, match="401"):
        await WorkflowClient(base_url=server.url).list_workflows()
