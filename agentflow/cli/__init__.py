"""The `agentflow` command: draw a workflow, or run it from the terminal.

    agentflow draw myapp.flows:ResearchFlow -o flow.html     # self-contained HTML page
    agentflow draw myapp.flows:ResearchFlow --mermaid        # Mermaid text on stdout
    agentflow run myapp.flows:ResearchFlow --arg topic=otters --arg limit=3 --timeout 120

`run` prints each event the run streams on a line of its own (`Progress step=1`, long
fields cut), streamed text (events with a `delta` string, such as an agent's tokens) as
running text, answers every `InputRequiredEvent` with a line read from stdin (prompting
with the event's `prefix`), and ends with `result: ...`, the result as text. `--json`
prints every event in full as one JSON object per line, `--quiet` the result alone,
`--events A,B` only events of those classes. On a terminal a status line on stderr shows
the time, the events so far and the steps started; piped, the output is the lines alone.
`--llm-timeout SECONDS` sets `OPENAI_TIMEOUT` while the command runs: the engine imports no
LLM client, and the clients a workflow builds with agents' `OpenAI.from_env()` read it.

Exit codes: 0 success; 1 the workflow failed, timed out or was cancelled (or could not
start, or be drawn); 2 a usage error (bad `module:Class`, bad `--arg`); 130 interrupted.
`python -m agentflow` is the same command. One module per command: `draw.py`, `run.py`.
"""

from __future__ import annotations

import argparse
import math
import sys

from agentflow.cli.errors import EXIT_INTERRUPTED, CommandLineError
from agentflow.cli.formatting import format_event
from agentflow.cli.loading import load_workflow

__all__ = ["CommandLineError", "format_event", "load_workflow", "main"]

DISTRIBUTION = "agentflow-engine"
"""The name this project installs under (pyproject's `name`; `agentflow` on PyPI is another
author's package)."""


def main(argv: list[str] | None = None) -> int:
    """Run the `agentflow` command with `argv` (default: `sys.argv[1:]`); return the exit
    code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "run" and args.quiet and args.events is not None:
        parser.error("--events shows events, which --quiet leaves out")
    try:
        if args.command == "draw":
            from agentflow.cli.draw import draw_command

            return draw_command(args)
        from agentflow.cli.run import run_command

        return run_command(args)
    except CommandLineError as error:
        _print_error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("\n")  # end the line the ^C (or an open prompt) left
        _print_error("interrupted")
        return EXIT_INTERRUPTED


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentflow", description="Draw or run an agentflow workflow."
    )
    parser.add_argument("--version", action="version", version=f"agentflow {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    draw = commands.add_parser(
        "draw",
        help="draw every flow a workflow can take",
        description="Write a self-contained HTML drawing of a workflow's step graph, or "
        "print it as Mermaid text.",
    )
    draw.add_argument("target", metavar="MODULE:CLASS", help="e.g. myapp.flows:ResearchFlow")
    draw.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="file to write (default: workflow_all_flows.html; with --mermaid: stdout)",
    )
    draw.add_argument("--mermaid", action="store_true", help="Mermaid flowchart text instead")
    draw.add_argument(
        "--max-label-length", type=_positive_int, metavar="N", help="cut longer labels"
    )

    run = commands.add_parser(
        "run",
        help="run a workflow, printing the events it streams",
        description="Run a workflow: print each streamed event, answer InputRequiredEvents "
        "from stdin, print the result.",
    )
    run.add_argument("target", metavar="MODULE:CLASS", help="e.g. myapp.flows:ResearchFlow")
    run.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a start event field; VALUE is read as JSON when it parses, else as a string "
        "(repeatable)",
    )
    run.add_argument(
        "--timeout",
        type=_timeout,
        metavar="SECONDS",
        help="override the workflow's timeout; 'none' for no limit",
    )
    run.add_argument(
        "--llm-timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help="how long an LLM client waits for its server: sets OPENAI_TIMEOUT for the run, "
        "read by the clients the workflow builds from the environment (OpenAI.from_env())",
    )
    output = run.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="print only the result, as text")
    output.add_argument(
        "--json",
        action="store_true",
        help='print every event in full as a JSON object per line, then {"result": ...}',
    )
    run.add_argument(
        "--events",
        type=_event_names,
        metavar="A,B",
        help="show only events of these classes (e.g. AgentStream,ToolCall)",
    )
    run.add_argument(
        "--no-progress", action="store_true", help="no status line, even on a terminal"
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _timeout(text: str) -> float:
    from agentflow.cli.run import NO_TIMEOUT

    if text.strip().lower() == "none":
        return NO_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds or 'none', got {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _event_names(text: str) -> frozenset[str]:
    names = frozenset(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError(
            f"expected event class names, e.g. AgentStream,ToolCall, got {text!r}"
        )
    return names


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _print_error(message: str) -> None:
    sys.stdout.flush()
    print(f"agentflow: error: {message}", file=sys.stderr, flush=True)
