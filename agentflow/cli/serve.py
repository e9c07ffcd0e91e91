"""`agentflow serve`: a `WorkflowServer` over HTTP, with uvicorn.

    agentflow serve myapp:server --host 127.0.0.1 --port 8000 --token-env MY_TOKEN
    agentflow serve myapp:server --dsn postgresql://app@db/app --runner dbos

It binds 127.0.0.1 unless told otherwise. `--token-env NAME` reads the bearer token from
that environment variable (the server reads `$AGENTFLOW_SERVER_TOKEN` by itself). `--dsn`
journals the runs in that PostgreSQL database instead of the server's own store; with
`--runner dbos` the server is a replica that runs nothing itself: it enqueues runs for the
worker processes (`agentflow worker`) and follows them in the database.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from agentflow.cli.errors import EXIT_OK, CommandLineError
from agentflow.cli.loading import describe, load_attribute
from agentflow.cli.options import Subcommands
from agentflow.cli.telemetry import export_spans_from_environment

if TYPE_CHECKING:
    from agentflow.server import WorkflowServer
    from agentflow.stores.postgres import PostgresStore


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
    serve.add_argument(
        "--dsn", help="journal runs in this PostgreSQL database (postgresql://user@host/db)"
    )
    serve.add_argument(
        "--runner",
        choices=["local", "dbos"],
        default="local",
        help="local: run workflows in this process (default); dbos: only enqueue them for "
        "`agentflow worker` processes (needs --dsn and the [dbos] extra)",
    )
    serve.set_defaults(execute=serve_command)


def load_server(target: str) -> WorkflowServer:
    """The WorkflowServer `target` (`module:attribute`) names."""
    from agentflow.server import WorkflowServer

    server = load_attribute(target, "module:server (e.g. myapp:server)")
    if not isinstance(server, WorkflowServer):
        raise CommandLineError(f"{target!r} is {describe(server)}, not a WorkflowServer")
    return server


def postgres_store(dsn: str) -> PostgresStore:
    """The PostgreSQL store at `dsn`, refused early unless it is a PostgreSQL URL."""
    if not dsn.startswith(("postgresql://", "postgres://")):
        raise CommandLineError(f"--dsn: a postgresql:// URL, got {dsn!r}")
    from agentflow.stores.postgres import PostgresStore

    return PostgresStore(dsn)


def serve_command(args: argparse.Namespace) -> int:
    """Serve the WorkflowServer `args.target` names until interrupted; the exit code."""
    server = load_server(args.target)
    export_spans_from_environment()  # after the load: a provider the target sets wins
    if args.token_env is not None:
        token = os.environ.get(args.token_env)
        if not token:
            raise CommandLineError(f"--token-env {args.token_env}: that variable is not set")
        server.token = token
    if args.runner == "dbos" and args.dsn is None:
        raise CommandLineError("--runner dbos needs --dsn: the workers' PostgreSQL database")
    if args.dsn is not None:
        store = postgres_store(args.dsn)
        if args.runner == "dbos":
            from agentflow.runners.dbos import DBOSRunner

            server.use_runner(DBOSRunner(server, store))
        else:
            server.use_store(store)
    from agentflow.server.serving import uvicorn_server

    uvicorn_server(server, host=args.host, port=args.port, log_level=args.log_level).run()
    return EXIT_OK
