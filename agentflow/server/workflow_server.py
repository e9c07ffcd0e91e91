"""`WorkflowServer`: workflows as an HTTP service, on a durable store.

    server = WorkflowServer(store=SqliteStore("runs.db"))
    server.add_workflow("greet", Greeter(timeout=None))
    app = server.app        # an ASGI app: `agentflow serve myapp:server`, or mount it

Each run is journalled in the server's store, so the server can be killed at any moment:
at start-up (the app's lifespan) it resumes every unfinished run of the workflows it serves.
The server is a face over the engine, as the command line is: it starts, follows, answers
and cancels runs through its `Runner` (`runs.py`) and speaks the reference server's JSON.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from agentflow.runners.local import LocalRunner
from agentflow.server.app import Routes, api_error
from agentflow.server.errors import ApiError, ServerConfigurationError
from agentflow.server.registry import WorkflowRegistry
from agentflow.server.runs import Runner
from agentflow.server.security import BearerTokenMiddleware

if TYPE_CHECKING:
    from agentflow.events import Event
    from agentflow.stores.base import RunStore
    from agentflow.workflow import Workflow

DEFAULT_STORE_PATH = "agentflow-runs.db"
DEFAULT_MAX_BODY_BYTES = 1_000_000
TOKEN_VARIABLE = "AGENTFLOW_SERVER_TOKEN"


class WorkflowServer:
    """Serves workflows over HTTP with the reference server's routes; see the module
    docstring.

    `store`: where runs are journalled (default `SqliteStore("agentflow-runs.db")`, made on
    first use). `token`: every route but `/health` needs `Authorization: Bearer <token>`
    (default: `$AGENTFLOW_SERVER_TOKEN`, if set; `token=""` turns it off). `cors_origins`:
    the browser origins allowed to call it (default none: CORS off). `max_body_bytes`: the
    largest request body accepted (413 over it). `heartbeat_seconds`: an SSE comment is sent
    after this long without an event, so proxies keep the stream open.
    `keep_finished_runs`: how many ended runs keep their streamed events in memory (older
    ones answer from the store, and their stream is gone: `GET /events` gives 204).
    Options are read when `app` is first made, except `token`, read at each request.
    """

    def __init__(
        self,
        store: RunStore | None = None,
        *,
        token: str | None = None,
        cors_origins: Iterable[str] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        heartbeat_seconds: float = 15.0,
        keep_finished_runs: int = 1000,
        title: str = "agentflow workflow server",
    ) -> None:
        if max_body_bytes <= 0:
            raise ServerConfigurationError(f"max_body_bytes must be positive, got {max_body_bytes}")
        if keep_finished_runs < 0:
            raise ServerConfigurationError(
                f"keep_finished_runs must be 0 or more, got {keep_finished_runs}"
            )
        if heartbeat_seconds <= 0:
            raise ServerConfigurationError(
                f"heartbeat_seconds must be positive, got {heartbeat_seconds}"
            )
        self._store = store
        self.token = os.environ.get(TOKEN_VARIABLE) if token is None else token
        self.cors_origins = list(cors_origins or [])
        self.max_body_bytes = max_body_bytes
        self.heartbeat_seconds = heartbeat_seconds
        self.keep_finished_runs = keep_finished_runs
        self.title = title
        self.registry = WorkflowRegistry()
        self.started = False
        self._runner: Runner | None = None
        self._app: Starlette | None = None
        self._routes = Routes(self)

    @property
    def store(self) -> RunStore:
        """The store runs are journalled in (the default SQLite file is made here, on first
        use, so that a server that never runs creates no file)."""
        if self._store is None:
            from agentflow.stores.sqlite import SqliteStore

            self._store = SqliteStore(DEFAULT_STORE_PATH)
        return self._store

    def use_store(self, store: RunStore) -> None:
        """Journal runs in `store` instead of the one the server was made with (`agentflow
        serve --dsn`, `agentflow worker --dsn`); before the server starts."""
        if self._runner is not None:
            raise ServerConfigurationError("use_store() after the server made its runner")
        self._store = store
        self.registry.bind(store)

    def use_runner(self, runner: Runner) -> None:
        """Start and follow runs with `runner` (the DBOS runner of a replica that only
        enqueues, `agentflow.runners.dbos.DBOSRunner`) instead of running them here."""
        if self._runner is not None:
            raise ServerConfigurationError("use_runner() after the server made its runner")
        self._runner = runner

    @property
    def runner(self) -> Runner:
        """What the routes start and follow runs with."""
        if self._runner is None:
            self._runner = LocalRunner(
                self.registry, self.store, keep_finished=self.keep_finished_runs
            )
        return self._runner

    def add_workflow(
        self, name: str, workflow: Workflow[Any], *, additional_events: Iterable[type[Event]] = ()
    ) -> None:
        """Serve `workflow` as `name`. The server runs a shallow copy of it bound to the
        server's store (your instance is not changed; a workflow made with a store of its
        own is refused). `additional_events`: event classes the workflow waits for with
        `ctx.wait_for_event` that no step signature names, so that clients may send them."""
        if self._app is not None and self.started:
            raise ServerConfigurationError(
                f"add_workflow({name!r}) after the server started: add every workflow first"
            )
        self.registry.add(name, workflow, self.store, additional_events)

    @property
    def app(self) -> Starlette:
        """The ASGI app (made once): the routes, the token check, CORS when origins are
        listed, and a lifespan that resumes unfinished runs at start-up."""
        if self._app is None:
            middleware: list[Middleware] = []
            if self.cors_origins:
                middleware.append(
                    Middleware(
                        CORSMiddleware,
                        allow_origins=self.cors_origins,
                        allow_methods=["GET", "POST"],
                        allow_headers=[
                            "Authorization",
                            "Content-Type",
                            "Idempotency-Key",
                            "Last-Event-ID",
                        ],
                    )
                )
            middleware.append(Middleware(BearerTokenMiddleware, token=lambda: self.token))
            self._app = Starlette(
                routes=self._routes.routes(),
                middleware=middleware,
                exception_handlers={ApiError: api_error, HTTPException: api_error},
                lifespan=self._lifespan,
            )
        return self._app

    def end_streams(self) -> None:
        """End every event stream the server serves, now: call it when shutting down
        (`agentflow serve` does), as the ASGI server waits for open streams to end."""
        if self._runner is not None:
            self._runner.events.stop()

    def openapi_document(self) -> dict[str, Any]:
        """The OpenAPI document of every route (served at `/openapi.json`)."""
        return self._routes.document(self.title, "1")

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.runner.resume_unfinished()
        self.started = True
        try:
            yield
        finally:
            self.started = False
            # The runs are left to the event loop's end: unfinished, each is resumed by the
            # next server on this store.
            await self.runner.close()
