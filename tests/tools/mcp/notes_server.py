"""A small MCP server for the tests, written with the `mcp` SDK: over stdio by default,
over streamable HTTP on 127.0.0.1 with `--http PORT`."""

from __future__ import annotations

import os
import socket
import sys

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel

server = MCPServer("notes")


class Sum(BaseModel):
    total: int


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def add(a: int, b: int) -> Sum:
    """Add two integers."""
    return Sum(total=a + b)


@server.tool()
def echo(text: str) -> str:
    """Say the text back."""
    return f"echo: {text}"


@server.tool()
def refuse(reason: str) -> str:
    """Always fails, with the reason given."""
    raise ToolError(f"refused: {reason}")


@server.tool()
def header(name: str, ctx: Context) -> str:
    """The value of a header of the HTTP request that carried the call."""
    return (ctx.headers or {}).get(name.lower(), "(no such header)")


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


_answered = 0


@server.tool()
def tally(label: str) -> str:
    """Count the calls this process has answered: state that lives as long as its session."""
    global _answered
    _answered += 1
    return f"{label}: call {_answered} of process {os.getpid()}"


@server.tool()
async def wait_forever(notify_port: int) -> str:
    """Tell a test on 127.0.0.1:notify_port that the call arrived (the process id), then
    never answer."""
    with socket.create_connection(("127.0.0.1", notify_port)) as connection:
        connection.sendall(f"{os.getpid()}\n".encode())
    await anyio.sleep_forever()
    return "unreachable"


_fast_done = anyio.Event()


@server.tool()
async def slow_lookup(city: str) -> str:
    """Look a city up; answers only once fast_lookup has, so the two calls must overlap."""
    with anyio.move_on_after(10):
        await _fast_done.wait()
    return f"{city}: 12C" if _fast_done.is_set() else f"{city}: fast_lookup never came"


@server.tool()
async def fast_lookup(city: str) -> str:
    """Look a city up at once."""
    _fast_done.set()
    return f"{city}: 20C"


@server.tool()
def crash() -> str:
    """End the server's process in the middle of the call."""
    os._exit(3)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
