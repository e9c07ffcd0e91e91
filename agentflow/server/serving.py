"""Running a `WorkflowServer` under uvicorn (what `agentflow serve` does).

uvicorn waits for open connections to close before it runs the app's lifespan shutdown, and
a stream following a waiting run would never close by itself; so as soon as uvicorn begins
to shut down, the server ends every stream it serves (`WorkflowServer.end_streams`), and the
clients see their streams end cleanly (they resume with `Last-Event-ID` elsewhere). Spans
exported by `agentflow serve` (`agentflow.tracing_export`) are sent once it has shut down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import uvicorn

from agentflow.tracing_export import flush_exported_spans

if TYPE_CHECKING:
    import socket

    from agentflow.server.workflow_server import WorkflowServer


class UvicornServer(uvicorn.Server):
    """A uvicorn server of `workflow_server.app` that ends its streams first at shutdown."""

    def __init__(self, workflow_server: WorkflowServer, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.workflow_server = workflow_server

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.workflow_server.end_streams()
        await super().shutdown(sockets=sockets)
        # uvicorn raises a SIGTERM again once it has shut down, which ends the process
        # without its exit hooks: the spans of the last runs are sent now.
        flush_exported_spans()


def uvicorn_server(
    workflow_server: WorkflowServer,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "warning",
) -> UvicornServer:
    """A uvicorn server of `workflow_server` bound to `host:port` (call `.run()`)."""
    config = uvicorn.Config(
        workflow_server.app, host=host, port=port, log_level=log_level, lifespan="on"
    )
    return UvicornServer(workflow_server, config)
