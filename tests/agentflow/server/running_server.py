"""A real uvicorn server on 127.0.0.1, on a free port, in a thread of its own: the tests
speak HTTP to it with httpx, so streaming is real. (A module of its own, not conftest: a
test importing `conftest` gets whichever conftest was imported first.)"""

from __future__ import annotations

import socket
import threading

from agentflow.server import WorkflowServer
from agentflow.server.serving import uvicorn_server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RunningServer:
    """A WorkflowServer served by uvicorn in a thread until `stop()`."""

    def __init__(self, server: WorkflowServer) -> None:
        self.server = server
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._uvicorn = uvicorn_server(server, port=self.port)
        self._thread = threading.Thread(target=self._uvicorn.run, daemon=True)

    def start(self) -> RunningServer:
        self._thread.start()
        while not self._uvicorn.started:
            if not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            self._thread.join(0.01)  # waits on the thread itself, bounded by the test timeout
        return self

    def stop(self) -> None:
        self._uvicorn.should_exit = True
        self._thread.join(10)
