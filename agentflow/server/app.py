"""The routes of a `WorkflowServer`, with the reference server's paths, JSON and status
codes (see `wire.py`), and the table the OpenAPI document is written from.

Every route speaks to the runs only through the server's `Runner` (`runs.py`), and reads a
request body only through `read_json_body`, which enforces the size limit.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from agentflow.server.errors import ApiError
from agentflow.server.openapi import RouteDoc, openapi_document
from agentflow.server.page import index, static_files
from agentflow.server.representation import graph_json
from agentflow.server.security import read_json_body
from agentflow.server.wire import (
    envelope,
    handler_json,
    legacy_result,
    parse_sent_event,
    parse_start_event,
)

if TYPE_CHECKING:
    from agentflow.events import Event
    from agentflow.server.registry import ServedWorkflow
    from agentflow.server.runs import RunView
    from agentflow.server.workflow_server import WorkflowServer

Endpoint = Callable[[Request], Awaitable[Response]]

HANDLER_STATUS_CODES = {"completed": 200, "running": 202, "failed": 500, "cancelled": 500}
"""How `GET /handlers/{id}` and `GET /results/{id}` answer each status, as the reference
does (its client raises on the 500 of a failed or cancelled run)."""

STATUSES = ("running", "completed", "failed", "cancelled")

EVENTS_PER_CHUNK = 256
"""The most events a stream writes as one chunk (see `_sse`)."""

MAX_IDEMPOTENCY_KEY = 255
"""The longest `Idempotency-Key` taken: the run journals it with the event it sent."""


class Routes:
    """The endpoints of one server."""

    def __init__(self, server: WorkflowServer) -> None:
        self.server = server

    # Workflows

    async def health(self, request: Request) -> Response:
        if self.server.started:
            return JSONResponse({"status": "healthy"})
        return JSONResponse({"status": "unhealthy"}, status_code=503)

    async def list_workflows(self, request: Request) -> Response:
        return JSONResponse({"workflows": self.server.registry.names()})

    async def schema(self, request: Request) -> Response:
        served = self._served(request)
        try:
            body = {
                "start": served.start_event.model_json_schema(),
                "stop": served.stop_event.model_json_schema(),
            }
        except Exception as error:  # pydantic cannot describe a field type: say which
            raise ApiError(500, f"the schema of workflow {served.name!r}: {error}") from error
        return JSONResponse(body)

    async def event_schemas(self, request: Request) -> Response:
        served = self._served(request)
        schemas = []
        for event_type in served.events.values():
            try:
                schemas.append(event_type.model_json_schema())
            except Exception:  # a field pydantic cannot describe: the class is listed bare
                schemas.append({"title": event_type.__name__, "type": "object"})
        return JSONResponse({"events": schemas})

    async def representation(self, request: Request) -> Response:
        served = self._served(request)
        return JSONResponse({"graph": graph_json(served.workflow)})

    # Runs

    async def run(self, request: Request) -> Response:
        view = await self._start(request)
        finished = await self.server.runner.wait(view.run_id)
        status = 200 if finished.status == "completed" else 500
        return JSONResponse(handler_json(finished), status_code=status)

    async def run_nowait(self, request: Request) -> Response:
        return JSONResponse(handler_json(await self._start(request)))

    async def _start(self, request: Request) -> RunView:
        served = self._served(request)
        body = await self._body(request)
        if body.get("context"):
            raise ApiError(
                400,
                "context: the server does not accept a serialized context (a run's state "
                "stays in the server's store); send a start_event",
            )
        run_id = body.get("handler_id")
        if run_id is not None and (not isinstance(run_id, str) or not run_id):
            raise ApiError(400, f"handler_id: a non-empty string or null, got {run_id!r}")
        start_event = parse_start_event(body, served)
        return await self.server.runner.start(served, start_event, run_id)

    async def list_handlers(self, request: Request) -> Response:
        statuses = _filter(request, "status")
        if statuses is not None:
            statuses = [status for status in statuses if status in STATUSES]
        names = _filter(request, "workflow_name")
        handlers = [
            handler_json(view)
            async for view in self.server.runner.list()
            if (statuses is None or view.status in statuses)
            and (names is None or view.workflow_name in names)
        ]
        return JSONResponse({"handlers": handlers})

    async def get_handler(self, request: Request) -> Response:
        view = await self._view(request)
        return JSONResponse(handler_json(view), status_code=HANDLER_STATUS_CODES[view.status])

    async def get_result(self, request: Request) -> Response:
        view = await self._view(request)
        body = legacy_result(handler_json(view))
        return JSONResponse(body, status_code=HANDLER_STATUS_CODES[view.status])

    async def cancel(self, request: Request) -> Response:
        if request.query_params.get("purge", "").lower() == "true":
            raise ApiError(
                400, "purge: deleting runs is not done over HTTP; use `agentflow runs prune`"
            )
        await self.server.runner.cancel(request.path_params["handler_id"])
        return JSONResponse({"status": "cancelled"})

    # Events

    async def send_event(self, request: Request) -> Response:
        body = await self._body(request)
        data = body.get("event")
        if not data:
            raise ApiError(400, "event: an event envelope {type, value} is required")
        step = body.get("step")
        if step is not None and not isinstance(step, str):
            raise ApiError(400, f"step: a step name or null, got {step!r}")
        key = request.headers.get("idempotency-key")
        if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            raise ApiError(
                400, f"Idempotency-Key: 1 to {MAX_IDEMPOTENCY_KEY} characters, got {len(key)}"
            )
        view = await self._view(request)
        if view.status != "running" and key is None:
            # With a key, the runner answers: 409 too, unless the run took this very send.
            raise ApiError(409, f"run {view.run_id!r} has ended ({view.status})")
        served = self.server.registry.get(view.workflow_name)
        assert served is not None  # `_view` finds only runs of served workflows
        event = parse_sent_event(data, served)
        await self.server.runner.send(view.run_id, event, step, key)
        return JSONResponse({"status": "sent"})

    async def stream_events(self, request: Request) -> Response:
        view = await self._view(request)
        run_id = view.run_id
        events = self.server.runner.events
        live, last, ended = await events.where(run_id)
        if not live and view.status == "running":
            raise ApiError(409, f"run {run_id!r} is not running in this server")
        query = request.query_params
        sse = query.get("sse", "true").lower() == "true"
        cursor = _after_sequence(query.get("after_sequence", "-1"), last)
        last_event_id = request.headers.get("last-event-id")
        if sse and last_event_id is not None and _is_int(last_event_id):
            cursor = int(last_event_id)
        if cursor >= last and ended:
            return Response(status_code=204)
        qualified = query.get("include_qualified_name", "true").lower() == "true"
        batches = (
            events.follow(run_id, cursor, EVENTS_PER_CHUNK)
            if live
            else events.stored(run_id, cursor)
        )
        if not sse:
            return StreamingResponse(_ndjson(batches, qualified), media_type="application/x-ndjson")
        return EventSourceResponse(
            _sse(batches, qualified),
            ping=self.server.heartbeat_seconds,
            sep="\n",
            ping_message_factory=lambda: ServerSentEvent(comment="heartbeat", sep="\n"),
        )

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(self.server.openapi_document())

    # Shared

    def _served(self, request: Request) -> ServedWorkflow:
        name = request.path_params["name"]
        served = self.server.registry.get(name)
        if served is None:
            raise ApiError(404, f"no workflow named {name!r}")
        return served

    async def _view(self, request: Request) -> RunView:
        run_id = request.path_params["handler_id"]
        view = await self.server.runner.get(run_id)
        if view is None:
            raise ApiError(404, f"no run {run_id!r}")
        return view

    async def _body(self, request: Request) -> dict[str, Any]:
        body = await read_json_body(request, self.server.max_body_bytes)
        if not isinstance(body, dict):
            raise ApiError(400, f"request body: a JSON object, got {type(body).__name__}")
        return body

    def table(self) -> list[tuple[str, str, Endpoint, RouteDoc]]:
        """Every route: method, path, endpoint and what the OpenAPI document says of it."""
        run_body = (
            "{start_event: envelope or the start event's fields, handler_id?: run id, "
            "context?: must be empty}"
        )
        unknown = {404: "no such workflow"}
        run_codes = {
            400: "bad body or start event",
            409: "handler_id taken",
            413: "body too large",
            422: "invalid start event fields",
            **unknown,
        }
        handler = {200: "completed", 202: "running", 404: "no such run", 500: "failed or cancelled"}
        return [
            (
                "GET",
                "/health",
                self.health,
                RouteDoc("Is the server up", {200: "healthy", 503: "not started"}),
            ),
            (
                "GET",
                "/workflows",
                self.list_workflows,
                RouteDoc("Served workflows", {200: "their names"}),
            ),
            (
                "POST",
                "/workflows/{name}/run",
                self.run,
                RouteDoc(
                    "Run a workflow and wait for its end",
                    {200: "completed: the handler JSON", 500: "failed or cancelled", **run_codes},
                    body=run_body,
                ),
            ),
            (
                "POST",
                "/workflows/{name}/run-nowait",
                self.run_nowait,
                RouteDoc(
                    "Start a run", {200: "the handler JSON, running", **run_codes}, body=run_body
                ),
            ),
            (
                "GET",
                "/workflows/{name}/schema",
                self.schema,
                RouteDoc(
                    "JSON schemas of the start and stop events", {200: "{start, stop}", **unknown}
                ),
            ),
            (
                "GET",
                "/workflows/{name}/events",
                self.event_schemas,
                RouteDoc("JSON schemas of the workflow's events", {200: "{events}", **unknown}),
            ),
            (
                "GET",
                "/workflows/{name}/representation",
                self.representation,
                RouteDoc("The workflow's graph", {200: "{graph}", **unknown}),
            ),
            (
                "GET",
                "/handlers",
                self.list_handlers,
                RouteDoc(
                    "Runs",
                    {200: "{handlers}"},
                    query={
                        "status": "keep runs with this status (repeatable)",
                        "workflow_name": "keep runs of this workflow (repeatable)",
                    },
                ),
            ),
            (
                "GET",
                "/handlers/{handler_id}",
                self.get_handler,
                RouteDoc("A run, with its open questions", handler),
            ),
            (
                "POST",
                "/handlers/{handler_id}/cancel",
                self.cancel,
                RouteDoc(
                    "Cancel a run",
                    {
                        200: "{status: cancelled}",
                        400: "purge is not supported",
                        404: "no such run",
                        409: "the run has ended",
                    },
                    query={"purge": "refused: prune runs with `agentflow runs prune`"},
                ),
            ),
            (
                "GET",
                "/events/{handler_id}",
                self.stream_events,
                RouteDoc(
                    "Follow a run's events",
                    {
                        200: "the events, the terminal one last",
                        204: "nothing after the cursor",
                        400: "bad after_sequence",
                        404: "no such run",
                    },
                    query={
                        "sse": "true (default): SSE frames with id = sequence; else NDJSON",
                        "after_sequence": "send events after this sequence (-1: all; now)",
                        "include_qualified_name": "false: qualified_name is null",
                    },
                    stream=True,
                ),
            ),
            (
                "POST",
                "/events/{handler_id}",
                self.send_event,
                RouteDoc(
                    "Send an event (an answer) into a run; journalled before the answer",
                    {
                        200: "{status: sent}",
                        400: "bad body or event type",
                        404: "no such run",
                        409: "the run has ended",
                        413: "body too large",
                        422: "invalid event fields",
                    },
                    body="{event: {type, value}, step?: step name}; header Idempotency-Key",
                ),
            ),
            (
                "GET",
                "/results/{handler_id}",
                self.get_result,
                RouteDoc("A run with its plain result (the reference's older route)", handler),
            ),
            ("GET", "/openapi.json", self.openapi, RouteDoc("This document", {200: "OpenAPI 3.1"})),
            (
                "GET",
                "/",
                index,
                RouteDoc(
                    "The run viewer page (needs no token; the routes it calls do)",
                    {200: "the page"},
                    media_type="text/html",
                ),
            ),
        ]

    def routes(self) -> list[BaseRoute]:
        """The Starlette routes of `table`, and the page's script and style sheet."""
        routes: list[BaseRoute] = [
            Route(path, endpoint, methods=[method]) for method, path, endpoint, _ in self.table()
        ]
        routes.append(static_files())
        return routes

    def document(self, title: str, version: str) -> dict[str, Any]:
        """The OpenAPI document of `table`."""
        rows = [(method, path, doc) for method, path, _, doc in self.table()]
        return openapi_document(rows, title=title, version=version)


async def api_error(request: Request, error: Exception) -> Response:
    """An `ApiError` (or Starlette's own 404/405) as `{"detail": ...}`."""
    if isinstance(error, ApiError):
        return JSONResponse(error.body(), status_code=error.status)
    assert isinstance(error, HTTPException)
    return JSONResponse(
        {"detail": error.detail}, status_code=error.status_code, headers=error.headers
    )


def _filter(request: Request, name: str) -> list[str] | None:
    values = [value.strip() for value in request.query_params.getlist(name)]
    values = [value for value in values if value]
    return values or None


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _after_sequence(text: str, last: int) -> int:
    if text.lower() == "now":
        return last
    if not _is_int(text):
        raise ApiError(400, f"after_sequence: an integer or 'now', got {text!r}")
    return int(text)


def _json(event: Event, qualified: bool) -> str:
    return json.dumps(envelope(event, include_qualified_name=qualified), separators=(",", ":"))


async def _sse(
    batches: AsyncIterator[list[tuple[int, Event]]], qualified: bool
) -> AsyncIterator[bytes]:
    """The SSE frames (`id:` the event's seq in the run's stored stream, one `data:` line:
    JSON has no raw newline), each batch of events that have come as one chunk: one write
    for many frames when the client lags behind the run."""
    async for batch in batches:
        yield "".join(
            [f"id: {seq}\ndata: {_json(event, qualified)}\n\n" for seq, event in batch]
        ).encode()


async def _ndjson(
    batches: AsyncIterator[list[tuple[int, Event]]], qualified: bool
) -> AsyncIterator[str]:
    async for batch in batches:
        yield "".join([f"{_json(event, qualified)}\n" for _, event in batch])
