"""`agentflow mcp`: workflows and tools as an MCP server, over stdio or streamable HTTP.

    agentflow mcp myapp.flows:ResearchFlow                    # stdio, for a desktop assistant
    agentflow mcp myapp:served --http --host 127.0.0.1 --port 8000   # at /mcp

The target names a workflow (class or instance), a tool, an `agentflow.mcp.WorkflowTool`,
or a list or tuple of them (`agentflow.mcp.serve` says what each becomes).
"""

from __future__ import annotations

import argparse
from typing import Any

from agentflow.cli.errors import EXIT_OK, CommandLineError
from agentflow.cli.loading import load_attribute
from agentflow.cli.options import Subcommands
from agentflow.errors import MCPServeError


def add_mcp_command(commands: Subcommands) -> None:
    """Add `mcp` and its options; parsed, it runs `mcp_command`."""
    mcp = commands.add_parser(
        "mcp",
        help="serve workflows and tools over MCP",
        description="Serve workflows and tools as MCP tools, over stdio (default) or "
        "streamable HTTP (the [mcp] extra).",
    )
    mcp.add_argument("target", help="module:attribute naming a workflow, a tool, or a list")
    mcp.add_argument("--http", action="store_true", help="serve streamable HTTP, not stdio")
    mcp.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    mcp.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    mcp.add_argument("--name", default="agentflow", help="the server's name (default: agentflow)")
    mcp.set_defaults(execute=mcp_command)


def mcp_command(args: argparse.Namespace) -> int:
    """Serve what `args.target` names until the client goes or the process is interrupted."""
    from agentflow.mcp import mcp_server, serve_http, serve_stdio

    found = load_attribute(args.target, "module:attribute (e.g. myapp.flows:ResearchFlow)")
    items: list[Any] = list(found) if isinstance(found, list | tuple) else [found]
    try:
        server = mcp_server(*items, name=args.name)
    except MCPServeError as error:
        raise CommandLineError(f"{args.target!r}: {error}") from None
    import anyio

    if args.http:
        anyio.run(serve_http, server, args.host, args.port)
    else:
        anyio.run(serve_stdio, server)
    return EXIT_OK
