"""`agentflow serve`: a `WorkflowServer` over HTTP, with uvicorn.

    agentflow serve myapp:server --host 127.0.0.1 --port 8000 --token-env MY_TOKEN

It binds 127.0.0.1 unless told otherwise. `--token-env NAME` reads the bearer token from
that environment variable (the server reads `$AGENTFLOW_SERVER_TOKEN` by itself).
"""

from __future__ import annotations

import argparse
import os

from agentflow.cli.errors import EXIT_OK, CommandLineError
from agentflow.cli.loading import describe, load_attribute
from agentflow.cli.options import Subcommands


def add_serve_command(commands: Subcommands) -> None:
    """Add `serve` and its options; parsed, it runs `serve_command`."""
    serve = commands.add_parser(
        "serve",
        help="serve workflows over HTTP",
        description="Serve a WorkflowServer's workflows over HTTP (the [server] extra).",
    )
    serve.add_argument("target", help="module:attribute naming a WorkflowServer")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument(
        "--token-env",
        metavar="NAME",
        help="environment variable holding the bearer token every route but /health needs",
    )
    serve.add_argument(
        "--log-level", default="warning", help="uvicorn's log level (default: warning)"
    )
    serve.set_defaults(execute=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    """Serve the WorkflowServer `args.target` names until interrupted; the exit code."""
    from agentflow.server import WorkflowServer

    server = load_attribute(args.target, "module:server (e.g. myapp:server)")
    if not isinstance(server, WorkflowServer):
        raise CommandLineError(f"{args.target!r} is {describe(server)}, not a WorkflowServer")
    if args.token_env is not None:
        token = os.environ.get(args.token_env)
        if not token:
            raise CommandLineError(f"--token-env {args.token_env}: that variable is not set")
        server.token = token
    from agentflow.server.serving import uvicorn_server

    uvicorn_server(server, host=args.host, port=args.port, log_level=args.log_level).run()
    return EXIT_OK
