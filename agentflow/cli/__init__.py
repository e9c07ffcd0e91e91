"""The `agentflow` command: draw a workflow, run it from the terminal, or read the runs a
durable store holds.

    agentflow draw myapp.flows:ResearchFlow -o flow.html     # self-contained HTML page
    agentflow draw myapp.flows:ResearchFlow --mermaid        # Mermaid text on stdout
    agentflow run myapp.flows:ResearchFlow --arg topic=otters --arg limit=3 --timeout 120
    agentflow runs list --store sqlite:///runs.db --status waiting   # or $AGENTFLOW_STORE
    agentflow runs show order-42 --store postgresql://app@db/app
    agentflow runs prune --older-than 7d --store sqlite:///runs.db
    agentflow serve myapp:server --host 127.0.0.1 --port 8000      # the [server] extra
    agentflow worker myapp:server --dsn postgresql://app@db/app    # the [dbos] extra
    agentflow mcp myapp.flows:ResearchFlow [--http --port 8000]     # the [mcp] extra

`run` prints each event the run streams on a line of its own (`Progress step=1`, long
fields cut), streamed text (events with a `delta` string, such as an agent's tokens) as
running text, answers every `InputRequiredEvent` with a line read from stdin (prompting
with the event's `prefix`), and ends with `result: ...`, the result as text. `--json`
prints every event in full as one JSON object per line, `--quiet` the result alone,
`--events A,B` only events of those classes. On a terminal a status line on stderr shows
the time, the events so far and the steps started; piped, the output is the lines alone.
`--llm-timeout SECONDS` sets `OPENAI_TIMEOUT` while the command runs: the engine imports no
LLM client, and the clients a workflow builds with agents' `OpenAI.from_env()` read it.
`runs` opens the store its `--store` URL names (`agentflow.stores.open_store`): `list`
prints a line per run, most recently written first, `show` a run with the journal records
after its checkpoint, `prune` drops ended runs older than a duration; `--json` for JSON.

Exit codes: 0 success; 1 the workflow failed, timed out or was cancelled (or could not
start, or be drawn), or a run or store could not be read; 2 a usage error (bad
`module:Class`, bad `--arg`, no or a bad store URL, a bad duration); 130 interrupted.
`python -m agentflow` is the same command.

`serve` runs a `WorkflowServer` (`agentflow.server`) with uvicorn, on 127.0.0.1 unless
`--host` says otherwise. `mcp` serves workflows and tools as an MCP server, over stdio or
(`--http`) streamable HTTP (`agentflow.mcp`, the [mcp] extra).

`worker` executes the runs a DBOS queue holds for a server's workflows
(`agentflow.runners.dbos`); `serve --runner dbos` makes a server that fills that queue.

One module per command, `draw.py`, `mcp.py`, `run.py`, `runs.py`, `serve.py` and
`worker.py`, each adding its subcommand and options to the parser (`add_draw_command`,
`add_mcp_command`, `add_run_command`, `add_runs_command`, `add_serve_command`,
`add_worker_command`) and importing what it runs
with only when it runs; this module builds the top-level parser, dispatches to the command
parsed, and turns its errors into exit codes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from agentflow.cli.draw import add_draw_command
from agentflow.cli.errors import EXIT_INTERRUPTED, CommandLineError, ConflictingOptionsError
from agentflow.cli.formatting import format_event
from agentflow.cli.loading import load_workflow
from agentflow.cli.mcp import add_mcp_command
from agentflow.cli.run import add_run_command
from agentflow.cli.runs import add_runs_command
from agentflow.cli.serve import add_serve_command
from agentflow.cli.worker import add_worker_command

__all__ = ["CommandLineError", "format_event", "load_workflow", "main"]

DISTRIBUTION = "agentflow-engine"
"""The name this project installs under (pyproject's `name`; `agentflow` on PyPI is another
author's package)."""


def main(argv: list[str] | None = None) -> int:
    """Run the `agentflow` command with `argv` (default: `sys.argv[1:]`); return the exit
    code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    execute: Callable[[argparse.Namespace], int] = args.execute
    try:
        return execute(args)
    except ConflictingOptionsError as error:
        parser.error(str(error))
    except CommandLineError as error:
        _print_error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("\n")  # end the line the ^C (or an open prompt) left
        _print_error("interrupted")
        return EXIT_INTERRUPTED


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentflow",
        description="Draw, run or serve agentflow workflows, or read the runs in a store.",
    )
    parser.add_argument("--version", action="version", version=f"agentflow {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_draw_command(commands)
    add_mcp_command(commands)
    add_run_command(commands)
    add_runs_command(commands)
    add_serve_command(commands)
    add_worker_command(commands)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _print_error(message: str) -> None:
    sys.stdout.flush()
    print(f"agentflow: error: {message}", file=sys.stderr, flush=True)
