"""A real uvicorn server on 127.0.0.1, on a free port, in a thread of its own: the tests
speak HTTP to it with httpx, so streaming is real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from running_server import RunningServer
from served_flows import make_server

from agentflow.stores import SqliteStore


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """`serve(**options)`: a running server of served_flows' workflows on a fresh SQLite
    file, stopped after the test."""
    running: list[RunningServer] = []

    def start(**options: Any) -> RunningServer:
        store = SqliteStore(tmp_path / f"runs{len(running)}.db")
        server = RunningServer(make_server(store, **options)).start()
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def base_url(serve: Callable[..., RunningServer]) -> str:
    """The URL of a running server with default options."""
    return serve().url
