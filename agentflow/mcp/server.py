"""Serving workflows and tools over MCP: `mcp_server(...)` builds the server, `serve(...)`
runs it over stdio or streamable HTTP.

```python
from agentflow.mcp import serve

serve(ResearchFlow(), add, transport="stdio")                   # for a desktop assistant
serve(ResearchFlow(), transport="http", host="127.0.0.1", port=8000)   # at /mcp
```

The server is the `mcp` SDK's low-level `Server`, given the two handlers MCP tools need
(`tools/list`, `tools/call`); the SDK does the protocol, the sessions and the transports.
"""

from __future__ import annotations

from typing import Any, Literal

from agentflow.errors import MCPServeError
from agentflow.extras import extra_needed
from agentflow.mcp.served import CallableTool, ServedTool, WorkflowTool
from agentflow.workflow import Workflow

with extra_needed("mcp", "agentflow.mcp"):
    import anyio
    from mcp.server import Server
    from mcp.server.context import ServerRequestContext
    from mcp.server.stdio import stdio_server
    from mcp_types import (
        CallToolRequestParams,
        CallToolResult,
        ListToolsResult,
        PaginatedRequestParams,
        TextContent,
    )

Served = WorkflowTool | ServedTool
Servable = Workflow | type[Workflow] | WorkflowTool | CallableTool
"""What `serve` takes: a workflow (instance, or a class made with no arguments), a
`WorkflowTool` (to name it), or a tool shaped as the `tools` package makes them."""


def served(item: Any) -> Served:
    """The MCP face of one thing `serve` was given; `MCPServeError` for anything else."""
    if isinstance(item, WorkflowTool):
        return item
    if isinstance(item, type) and issubclass(item, Workflow):
        item = item()
    if isinstance(item, Workflow):
        return WorkflowTool(item)
    if isinstance(item, CallableTool) and hasattr(item.metadata, "get_parameters_dict"):
        return ServedTool(item)
    raise MCPServeError(
        f"cannot serve {item!r} ({type(item).__name__}) over MCP: give a Workflow, a "
        "WorkflowTool or a tool (an object with metadata and acall, as tools.FunctionTool)"
    )


def mcp_server(*items: Servable, name: str = "agentflow") -> Server[Any]:
    """An MCP server (the SDK's low-level `Server`) whose tools are `items`. Raises
    `MCPServeError` for an item it cannot serve, or two with one name."""
    by_name: dict[str, Served] = {}
    for item in items:
        face = served(item)
        if face.name in by_name:
            raise MCPServeError(
                f"two served items are named '{face.name}'; name one with "
                "WorkflowTool(workflow, name=...)"
            )
        by_name[face.name] = face

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return ListToolsResult(tools=[face.listing() for face in by_name.values()])

    async def call_tool(
        ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        face = by_name.get(params.name)
        if face is None:
            text = f"no tool named '{params.name}'; this server has: {', '.join(by_name)}"
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)

        async def report(progress: float, message: str) -> None:
            await ctx.session.report_progress(progress, None, message)

        return await face.call(params.arguments or {}, report)

    return Server(name, on_list_tools=list_tools, on_call_tool=call_tool)


async def serve_stdio(server: Server[Any]) -> None:
    """Serve `server` on this process's stdin and stdout until the client closes them."""
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


async def serve_http(server: Server[Any], host: str, port: int, path: str = "/mcp") -> None:
    """Serve `server` over streamable HTTP at `http://host:port/path`, with uvicorn."""
    with extra_needed("mcp", "agentflow.mcp over HTTP"):
        import uvicorn

    app = server.streamable_http_app(streamable_http_path=path, host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level="info")
    await uvicorn.Server(config).serve()


def serve(
    *items: Servable,
    transport: Literal["stdio", "http"] = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
    name: str = "agentflow",
) -> None:
    """Serve workflows and tools as MCP tools until the client goes (stdio) or the process
    is interrupted (HTTP, at `/mcp`). See `mcp_server` for what `items` may be."""
    server = mcp_server(*items, name=name)
    if transport == "stdio":
        anyio.run(serve_stdio, server)
    elif transport == "http":
        anyio.run(serve_http, server, host, port)
    else:
        raise MCPServeError(f"transport must be 'stdio' or 'http', got {transport!r}")
