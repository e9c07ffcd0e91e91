"""`agentflow run`: run a workflow from the terminal, answering its questions from stdin."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from agentflow.cli.errors import (
    EXIT_OK,
    EXIT_WORKFLOW_FAILED,
    CommandLineError,
    ConflictingOptionsError,
    one_line,
)
from agentflow.cli.loading import instantiate, load_workflow
from agentflow.cli.options import Subcommands, add_workflow_command
from agentflow.cli.telemetry import export_spans_from_environment

if TYPE_CHECKING:
    import asyncio

    from agentflow.cli.console import RunConsole
    from agentflow.events import Event, HumanResponseEvent, StartEvent
    from agentflow.workflow import Workflow

NO_TIMEOUT = -1.0
"""What `--timeout none` parses to: argparse's default None must mean "not given"."""

LLM_TIMEOUT_VARIABLE = "OPENAI_TIMEOUT"
"""Where `--llm-timeout` goes. The engine imports no LLM client (agents' `OpenAI` is a layer
above it), so it hands the timeout to the clients a workflow builds from the environment
(`OpenAI.from_env()`), in the variable they read."""


def add_run_command(commands: Subcommands) -> None:
    """Add `run` and its options to the command's subcommands; parsed, it runs
    `run_command`."""
    run = add_workflow_command(
        commands,
        "run",
        help="run a workflow, printing the events it streams",
        description="Run a workflow: print each streamed event, answer InputRequiredEvents "
        "from stdin, print the result.",
    )
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
    run.set_defaults(execute=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the workflow `args.target` names with the options in `args`; return the exit
    code."""
    if args.quiet and args.events is not None:
        raise ConflictingOptionsError("--events shows events, which --quiet leaves out")
    if args.llm_timeout is None:
        return _run_target(args)
    # Set before the target is imported: a module may build its client as it loads.
    with _environment_variable(LLM_TIMEOUT_VARIABLE, f"{args.llm_timeout:g}"):
        return _run_target(args)


def _run_target(args: argparse.Namespace) -> int:
    # Imported here rather than at the top: every `agentflow` command builds this module's
    # parser, and only a run needs asyncio and the engine.
    import asyncio

    from agentflow.cli.console import OutputMode, RunConsole

    target = load_workflow(args.target)
    export_spans_from_environment()  # after the load: a provider the target sets wins
    fields = _start_fields(args.arg)
    workflow = instantiate(target)
    if args.timeout is not None:
        # Set on the instance rather than passed to the constructor: a subclass's
        # __init__ may take other arguments, and each run reads `timeout` when it starts.
        workflow.timeout = None if args.timeout == NO_TIMEOUT else args.timeout
    mode = OutputMode.JSON if args.json else OutputMode.QUIET if args.quiet else OutputMode.READABLE
    console = RunConsole(
        sys.stdout,
        sys.stderr,
        sys.stdin,
        status=not args.no_progress and sys.stdout.isatty() and sys.stderr.isatty(),
        mode=mode,
        event_names=args.events,
    )
    return asyncio.run(_run_workflow(workflow, fields, console))


async def _run_workflow(workflow: Workflow, fields: dict[str, Any], console: RunConsole) -> int:
    from agentflow.errors import ContextStateError
    from agentflow.events import InputRequiredEvent, WorkflowFailedEvent

    name = type(workflow).__name__
    try:
        handler = workflow.run(start_event=_start_event(workflow, fields))
    except Exception as error:
        raise CommandLineError(
            f"cannot start {name}: {one_line(error)}", EXIT_WORKFLOW_FAILED
        ) from None
    # Interrupted (Ctrl-C), this coroutine never gets to await the handler; its error is
    # then expected, not "never retrieved".
    handler.add_done_callback(_mark_retrieved)
    response_type = _human_response_type(workflow)
    last: Event | None = None
    async with console.running(handler, name):
        async for event in handler.stream_events():
            last = event
            console.show_event(event)
            if not isinstance(event, InputRequiredEvent):
                continue
            answer = await console.ask(str(event.get("prefix") or "> "))
            if answer is None:
                await handler.cancel_run()
                raise CommandLineError(
                    f"stdin closed while {name} waited for an answer to {type(event).__name__}",
                    EXIT_WORKFLOW_FAILED,
                )
            # If the run ended meanwhile, its StopEvent is next on the stream.
            with contextlib.suppress(ContextStateError):
                handler.ctx.send_event(response_type(response=answer))
    console.note_unseen_event_names()
    try:
        result = await handler
    except Exception as error:
        if isinstance(last, WorkflowFailedEvent):
            message = f"{name} failed in step '{last.step_name}': {one_line(error)}"
        else:
            message = f"{name}: {one_line(error)}"
        raise CommandLineError(message, EXIT_WORKFLOW_FAILED) from None
    console.show_result(result)
    return EXIT_OK


def _timeout(text: str) -> float:
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


def _start_fields(pairs: Sequence[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for pair in pairs:
        key, equals, text = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            raise CommandLineError(f"--arg expects KEY=VALUE, got {pair!r}")
        if key in fields:
            raise CommandLineError(f"--arg {key!r} is given twice")
        try:
            fields[key] = json.loads(text)
        except ValueError:
            fields[key] = text
    return fields


def _start_event(workflow: Workflow, fields: dict[str, Any]) -> StartEvent:
    """The workflow's start event type built from `fields`. Built here rather than by
    `run(**fields)` so that a field called `ctx` or `start_event` is a field, not one of
    run()'s own parameters."""
    from agentflow.events import StartEvent
    from agentflow.runtime.step_table import step_table_of

    start_types = step_table_of(type(workflow)).start_event_types()
    start_type = start_types[0] if start_types else StartEvent
    return start_type(**fields)


@contextlib.contextmanager
def _environment_variable(name: str, value: str) -> Iterator[None]:
    """`name` set to `value` for the block, then as it was (`main()` may run in a process
    that goes on, such as a test's)."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


def _mark_retrieved(handler: asyncio.Future[Any]) -> None:
    if not handler.cancelled():
        handler.exception()


def _human_response_type(workflow: Workflow) -> type[HumanResponseEvent]:
    """The HumanResponseEvent subclass the workflow's steps accept, when exactly one does;
    else the base class (which a step waiting with `wait_for_event` typically expects)."""
    from agentflow.events import HumanResponseEvent
    from agentflow.runtime.step_table import step_table_of

    accepted = {
        event_type
        for spec in step_table_of(type(workflow)).steps.values()
        for event_type in spec.accepted
        if issubclass(event_type, HumanResponseEvent)
    }
    return accepted.pop() if len(accepted) == 1 else HumanResponseEvent
