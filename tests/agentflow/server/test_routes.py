"""Every route of a real server (uvicorn on 127.0.0.1) but the event streams: the JSON and
the status codes of each, error paths included."""

from __future__ import annotations

import httpx
import pytest
from sse_frames import answer, until_question

pytestmark = pytest.mark.timeout(30)

HANDLER_KEYS = [
    "handler_id",
    "workflow_name",
    "run_id",
    "error",
    "result",
    "result_unreadable",
    "status",
    "started_at",
    "updated_at",
    "completed_at",
    "questions",
]


@pytest.fixture
async def client(base_url: str) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        yield client


async def test_health_and_workflows(client: httpx.AsyncClient) -> None:
    health = await client.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "healthy"})
    listed = await client.get("/workflows")
    assert listed.json() == {
        "workflows": ["greet", "count", "ask", "boom", "chain", "talk", "tally"]
    }
    assert listed.headers["content-type"] == "application/json"


async def test_run_waits_and_answers_the_handler_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/workflows/greet/run",
        json={"start_event": {"_data": {"name": "Ada"}}, "context": {}, "handler_id": "g1"},
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == HANDLER_KEYS
    assert body["handler_id"] == body["run_id"] == "g1"
    assert body["status"] == "completed"
    assert body["result"] == {
        "value": {"result": "Hello, Ada!"},
        "qualified_name": "agentflow.events.StopEvent",
        "type": "StopEvent",
        "types": None,
    }
    assert body["completed_at"] == body["updated_at"]
    assert b'"status":"completed"' in response.content  # compact JSON, as the reference's


@pytest.mark.parametrize(
    "start_event",
    [
        {"name": "Ada"},
        {"value": {"_data": {"name": "Ada"}}, "type": "StartEvent", "qualified_name": None},
        '{"type": "StartEvent", "value": {"name": "Ada"}}',
    ],
)
async def test_start_event_shapes(client: httpx.AsyncClient, start_event: object) -> None:
    response = await client.post("/workflows/greet/run", json={"start_event": start_event})
    assert response.json()["result"]["value"] == {"result": "Hello, Ada!"}


async def test_kwargs_are_the_start_payload(client: httpx.AsyncClient) -> None:
    response = await client.post("/workflows/greet/run", json={"kwargs": {"name": "Bo"}})
    assert response.json()["result"]["value"] == {"result": "Hello, Bo!"}


async def test_a_failed_run_answers_500_with_its_error(client: httpx.AsyncClient) -> None:
    response = await client.post("/workflows/boom/run", json={})
    assert response.status_code == 500
    assert response.json()["status"] == "failed"
    assert response.json()["error"] == "kaboom"
    again = await client.get(f"/handlers/{response.json()['handler_id']}")
    assert again.status_code == 500
    assert again.json()["error"] == "kaboom"


async def test_run_nowait_then_handler_202_then_200(client: httpx.AsyncClient) -> None:
    started = await client.post(
        "/workflows/ask/run-nowait",
        json={"start_event": {"value": {}, "type": "StartEvent", "qualified_name": None}},
    )
    assert started.status_code == 200
    body = started.json()
    assert body["status"] == "running"
    assert body["result"] is None
    assert body["completed_at"] is None
    run_id = body["handler_id"]
    await until_question(client, run_id)
    waiting = await client.get(f"/handlers/{run_id}")
    assert waiting.status_code == 202
    questions = waiting.json()["questions"]
    assert [(q["type"], q["value"]) for q in questions] == [
        ("InputRequiredEvent", {"prefix": "Name? "})
    ]
    sent = await client.post(f"/events/{run_id}", json=answer("Zed"))
    assert (sent.status_code, sent.json()) == (200, {"status": "sent"})
    async with client.stream("GET", f"/events/{run_id}", params={"after_sequence": -1}) as r:
        await r.aread()  # the stream ends with the run
    done = await client.get(f"/handlers/{run_id}")
    assert done.status_code == 200
    assert done.json()["result"]["value"] == {"result": {"got": "Zed"}}
    assert done.json()["questions"] == []
    legacy = await client.get(f"/results/{run_id}")
    assert (legacy.status_code, legacy.json()["result"]) == (200, {"got": "Zed"})


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (b"", 400, "request body is not JSON"),
        (b"[1]", 400, "request body: a JSON object, got list"),
        (b'{"context": {"state": {}}}', 400, "context: the server does not accept"),
        (b'{"handler_id": 5}', 400, "handler_id: a non-empty string"),
        (b'{"start_event": {"type": "Nope", "value": {}}}', 400, "start_event: 'Nope'"),
        (
            b'{"start_event": {"qualified_name": "os.system", "value": {}}}',
            400,
            "start_event: 'os.system' is not the start event",
        ),
    ],
)
async def test_bad_start_requests(
    client: httpx.AsyncClient, body: bytes, status: int, detail: str
) -> None:
    response = await client.post(
        "/workflows/greet/run-nowait", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail), response.json()


async def test_an_invalid_start_event_is_422_with_the_field_errors(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/workflows/count/run-nowait", json={"start_event": {"count": "x"}}
    )
    assert response.status_code == 422
    body = response.json()
    assert "start_event: invalid Topic" in body["detail"]
    assert {tuple(error["loc"]) for error in body["errors"]} == {
        ("start_event", "topic"),
        ("start_event", "count"),
    }


async def test_unknown_workflow_is_404(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("POST", "/workflows/nope/run"),
        ("POST", "/workflows/nope/run-nowait"),
        ("GET", "/workflows/nope/schema"),
        ("GET", "/workflows/nope/representation"),
    ]:
        response = await client.request(method, path, json={})
        assert response.status_code == 404, path
        assert response.json() == {"detail": "no workflow named 'nope'"}


async def test_a_taken_handler_id_is_409(client: httpx.AsyncClient) -> None:
    await client.post("/workflows/greet/run", json={"handler_id": "same"})
    again = await client.post("/workflows/greet/run-nowait", json={"handler_id": "same"})
    assert again.status_code == 409
    assert again.json() == {"detail": "handler_id: a run 'same' already exists"}


async def test_handlers_list_and_filters(client: httpx.AsyncClient) -> None:
    await client.post("/workflows/greet/run", json={"handler_id": "ok1"})
    await client.post("/workflows/boom/run", json={"handler_id": "bad1"})
    every = (await client.get("/handlers")).json()["handlers"]
    assert {h["handler_id"] for h in every} == {"ok1", "bad1"}
    failed = await client.get("/handlers", params={"status": "failed"})
    assert [h["handler_id"] for h in failed.json()["handlers"]] == ["bad1"]
    both = await client.get("/handlers", params=[("status", "failed"), ("status", "completed")])
    assert len(both.json()["handlers"]) == 2
    greet = await client.get("/handlers", params={"status": "", "workflow_name": "greet"})
    assert [h["handler_id"] for h in greet.json()["handlers"]] == ["ok1"]
    bogus = await client.get("/handlers", params={"status": "bogus"})
    assert bogus.json() == {"handlers": []}


async def test_unknown_handler_is_404_everywhere(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/handlers/nope"),
        ("GET", "/results/nope"),
        ("POST", "/handlers/nope/cancel"),
        ("GET", "/events/nope"),
    ]:
        response = await client.request(method, path)
        assert (response.status_code, response.json()) == (404, {"detail": "no run 'nope'"})


async def test_cancel_a_waiting_run_then_409(client: httpx.AsyncClient) -> None:
    run_id = (await client.post("/workflows/ask/run-nowait", json={})).json()["handler_id"]
    await until_question(client, run_id)
    cancelled = await client.post(f"/handlers/{run_id}/cancel", params={"purge": "false"})
    assert (cancelled.status_code, cancelled.json()) == (200, {"status": "cancelled"})
    handler = await client.get(f"/handlers/{run_id}")
    assert (handler.status_code, handler.json()["status"]) == (500, "cancelled")
    again = await client.post(f"/handlers/{run_id}/cancel")
    assert again.status_code == 409
    purge = await client.post(f"/handlers/{run_id}/cancel", params={"purge": "true"})
    assert purge.status_code == 400
    assert purge.json()["detail"].startswith("purge:")


async def test_schema_and_representation(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/workflows/count/schema")).json()
    assert schema["start"]["title"] == "Topic"
    assert schema["start"]["required"] == ["topic"]
    assert schema["stop"]["title"] == "StopEvent"
    graph = (await client.get("/workflows/greet/representation")).json()["graph"]
    assert graph["name"] == "Greet"
    assert graph["description"] == "Says hello."
    steps = [node["label"] for node in graph["nodes"] if node["node_type"] == "step"]
    events = {node["event_type"] for node in graph["nodes"] if node["node_type"] == "event"}
    assert (steps, events) == (["go"], {"StartEvent", "StopEvent"})
    assert len(graph["edges"]) == 2
    events = (await client.get("/workflows/count/events")).json()["events"]
    assert {schema["title"] for schema in events} >= {"Topic", "StopEvent", "HumanResponseEvent"}


@pytest.mark.parametrize("name", ["greet", "ask", "tally"])
async def test_the_representation_is_the_graph_model_as_the_reference_s_server_sends_it(
    client: httpx.AsyncClient, name: str
) -> None:
    from served_flows import make_server

    from agentflow.representation import WorkflowGraph, get_workflow_representation

    response = await client.get(f"/workflows/{name}/representation")
    assert list(response.json()) == ["graph"]
    graph = response.json()["graph"]
    served = make_server().registry.get(name)
    assert served is not None
    workflow = served.workflow
    assert graph == get_workflow_representation(workflow).model_dump(mode="json")
    assert WorkflowGraph.model_validate(graph).model_dump(mode="json") == graph
    # No drawing-only edges: a step's waits are not in the reference's graph.
    assert all(edge["label"] is None for edge in graph["edges"])
    reference = pytest.importorskip("workflows.representation")
    assert reference.WorkflowGraph.model_validate(graph).model_dump(mode="json") == graph


async def test_openapi_describes_every_route(client: httpx.AsyncClient, base_url: str) -> None:
    from served_flows import make_server
    from starlette.routing import Route

    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    served = {
        (method.lower(), route.path)
        for route in make_server().app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert documented == served
    assert len(served) == 15
    page = document["paths"]["/"]["get"]["responses"]["200"]
    assert list(page["content"]) == ["text/html"]
    post_events = document["paths"]["/events/{handler_id}"]["post"]
    assert set(post_events["responses"]) == {"200", "400", "404", "409", "413", "422"}
    assert post_events["parameters"][0]["name"] == "handler_id"


async def test_unknown_path_and_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong = await client.post("/health")
    assert (wrong.status_code, wrong.json()) == (405, {"detail": "Method Not Allowed"})
