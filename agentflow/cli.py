"""The `agentflow` command: draw a workflow, or run it from the terminal.

    agentflow draw myapp.flows:ResearchFlow -o flow.html     # self-contained HTML page
    agentflow draw myapp.flows:ResearchFlow --mermaid        # Mermaid text on stdout
    agentflow run myapp.flows:ResearchFlow --arg topic=otters --arg limit=3 --timeout 120

`run` prints each event the run streams, one line each (`Progress {"step":1}`), answers
every `InputRequiredEvent` with a line read from stdin (prompting with the event's `prefix`),
and ends with a `result: ...` line. On a terminal a status line on stderr shows the time,
the events so far and the steps started; piped, the output is the plain lines alone.

Exit codes: 0 success; 1 the workflow failed, timed out or was cancelled (or could not
start, or be drawn); 2 a usage error (bad `module:Class`, bad `--arg`); 130 interrupted.
`python -m agentflow` is the same command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import importlib.util
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentflow.events import Event, HumanResponseEvent, StartEvent
    from agentflow.handler import WorkflowHandler
    from agentflow.workflow import Workflow

__all__ = ["CommandLineError", "format_event", "load_workflow", "main"]

EXIT_OK = 0
EXIT_WORKFLOW_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CommandLineError(Exception):
    """A problem the command reports in one line and exits on, with `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def main(argv: list[str] | None = None) -> int:
    """Run the `agentflow` command with `argv` (default: `sys.argv[1:]`); return the exit
    code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "draw":
            return _draw(args)
        return _run(args)
    except CommandLineError as error:
        _print_error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("\n")  # end the line the ^C (or an open prompt) left
        _print_error("interrupted")
        return EXIT_INTERRUPTED


def load_workflow(target: str) -> Workflow | type[Workflow]:
    """The Workflow subclass (or instance) that `target` names: `package.module:Name`,
    `path/to/file.py:Name`, or a dotted attribute path after the colon (`mod:Outer.Flow`).
    The current directory is put on `sys.path` first, so local modules import. Raises
    `CommandLineError` naming what was wrong."""
    from agentflow.workflow import Workflow

    module_name, colon, attribute_path = target.rpartition(":")
    if not colon or not module_name or not attribute_path:
        raise CommandLineError(
            f"expected module:WorkflowClass (e.g. myapp.flows:ResearchFlow), got {target!r}"
        )
    module = _import_module(module_name)
    found: object = module
    for depth, attribute in enumerate(attribute_path.split(".")):
        if not hasattr(found, attribute):
            owner = module_name if depth == 0 else attribute_path.rsplit(".", 1)[0]
            workflows = _workflows_defined_in(module)
            listing = (
                f"workflows it defines: {', '.join(workflows)}"
                if workflows
                else "it defines no Workflow subclass"
            )
            raise CommandLineError(f"{owner!r} has no attribute {attribute!r} ({listing})")
        found = getattr(found, attribute)
    if isinstance(found, Workflow) or (isinstance(found, type) and issubclass(found, Workflow)):
        return found
    raise CommandLineError(f"{target!r} is {_describe(found)}, not a Workflow subclass or instance")


# --------------------------------------------------------------------------- arguments


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


_NO_TIMEOUT = -1.0
"""What `--timeout none` parses to: argparse's default None must mean "not given"."""


def _timeout(text: str) -> float:
    if text.strip().lower() == "none":
        return _NO_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds or 'none', got {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("agentflow")
    except PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------- loading


def _import_module(module_name: str) -> ModuleType:
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if module_name.endswith(".py") or "/" in module_name or os.sep in module_name:
        return _import_file(Path(module_name))
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise CommandLineError(
                f"no module named {missing!r} (looked in the current directory and sys.path)"
            ) from error
        raise CommandLineError(f"importing {module_name!r} failed: {_one_line(error)}") from error
    except Exception as error:
        raise CommandLineError(f"importing {module_name!r} failed: {_one_line(error)}") from error


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise CommandLineError(f"no such file: {str(path)!r}")
    name = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CommandLineError(f"cannot import {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, so annotations in it resolve (get_type_hints looks the
    # module up in sys.modules) and its own imports of itself find it.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise CommandLineError(f"importing {str(path)!r} failed: {_one_line(error)}") from error
    return module


def _workflows_defined_in(module: ModuleType) -> list[str]:
    from agentflow.workflow import Workflow

    return sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, Workflow)
        and value is not Workflow
        and value.__module__ == module.__name__
    )


def _describe(value: object) -> str:
    if isinstance(value, type):
        return f"the class {value.__qualname__}"
    if isinstance(value, ModuleType):
        return f"the module {value.__name__}"
    if callable(value):
        return f"a {type(value).__name__} ({getattr(value, '__qualname__', value)!r})"
    return f"a {type(value).__name__}"


def _instantiate(target: Workflow | type[Workflow]) -> Workflow:
    if not isinstance(target, type):
        return target
    try:
        return target()
    except Exception as error:
        raise CommandLineError(
            f"cannot create {target.__name__}() with no arguments: {_one_line(error)}; "
            "point at a module-level instance instead (module:my_workflow)"
        ) from error


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _print_error(message: str) -> None:
    sys.stdout.flush()
    print(f"agentflow: error: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- draw


def _draw(args: argparse.Namespace) -> int:
    from agentflow.drawing import draw_all_possible_flows, draw_all_possible_flows_mermaid
    from agentflow.errors import WorkflowValidationError

    target = load_workflow(args.target)
    try:
        if args.mermaid:
            text = draw_all_possible_flows_mermaid(target, args.output, args.max_label_length)
            if args.output is None:
                sys.stdout.write(text)
            else:
                print(f"wrote {args.output}")
            return EXIT_OK
        path = draw_all_possible_flows(
            target,
            args.output or "workflow_all_flows.html",
            max_label_length=args.max_label_length,
        )
    except WorkflowValidationError as error:
        raise CommandLineError(
            f"cannot draw {args.target}: {error}", EXIT_WORKFLOW_FAILED
        ) from None
    except OSError as error:
        raise CommandLineError(f"cannot write the drawing: {error}", EXIT_WORKFLOW_FAILED) from None
    print(f"wrote {path}")
    return EXIT_OK


# --------------------------------------------------------------------------- run


def _run(args: argparse.Namespace) -> int:
    target = load_workflow(args.target)
    fields = _start_fields(args.arg)
    workflow = _instantiate(target)
    if args.timeout is not None:
        # Set on the instance rather than passed to the constructor: a subclass's
        # __init__ may take other arguments, and each run reads `timeout` when it starts.
        workflow.timeout = None if args.timeout == _NO_TIMEOUT else args.timeout
    show_status = not args.no_progress and sys.stdout.isatty() and sys.stderr.isatty()
    console = _RunConsole(sys.stdout, sys.stderr, sys.stdin, show_status)
    return asyncio.run(_run_workflow(workflow, fields, console))


async def _run_workflow(workflow: Workflow, fields: dict[str, Any], console: _RunConsole) -> int:
    from agentflow.errors import ContextStateError
    from agentflow.events import InputRequiredEvent, WorkflowFailedEvent

    name = type(workflow).__name__
    try:
        handler = workflow.run(start_event=_start_event(workflow, fields))
    except Exception as error:
        raise CommandLineError(
            f"cannot start {name}: {_one_line(error)}", EXIT_WORKFLOW_FAILED
        ) from None
    # Interrupted (Ctrl-C), this coroutine never gets to await the handler; its error is
    # then expected, not "never retrieved".
    handler.add_done_callback(_mark_retrieved)
    response_type = _human_response_type(workflow)
    last: Event | None = None
    async with console.status(handler, name):
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
    try:
        result = await handler
    except Exception as error:
        if isinstance(last, WorkflowFailedEvent):
            message = f"{name} failed in step '{last.step_name}': {_one_line(error)}"
        else:
            message = f"{name}: {_one_line(error)}"
        raise CommandLineError(message, EXIT_WORKFLOW_FAILED) from None
    console.show_result(result)
    return EXIT_OK


def _start_event(workflow: Workflow, fields: dict[str, Any]) -> StartEvent:
    """The workflow's start event type built from `fields`. Built here rather than by
    `run(**fields)` so that a field called `ctx` or `start_event` is a field, not one of
    run()'s own parameters."""
    from agentflow.events import StartEvent

    start_types = type(workflow)._step_table().start_event_types()
    start_type = start_types[0] if start_types else StartEvent
    return start_type(**fields)


def _mark_retrieved(handler: asyncio.Future[Any]) -> None:
    if not handler.cancelled():
        handler.exception()


def _human_response_type(workflow: Workflow) -> type[HumanResponseEvent]:
    """The HumanResponseEvent subclass the workflow's steps accept, when exactly one does;
    else the base class (which a step waiting with `wait_for_event` typically expects)."""
    from agentflow.events import HumanResponseEvent

    accepted = {
        event_type
        for spec in type(workflow)._step_table().steps.values()
        for event_type in spec.accepted
        if issubclass(event_type, HumanResponseEvent)
    }
    return accepted.pop() if len(accepted) == 1 else HumanResponseEvent


def format_event(event: Event) -> str:
    """One line for `event`: its type name, then its fields as compact JSON."""
    fields = event.to_dict()
    if not fields:
        return type(event).__name__
    return f"{type(event).__name__} {_compact_json(fields)}"


def _compact_json(value: Any) -> str:
    return json.dumps(value, default=_jsonable, ensure_ascii=False, separators=(",", ":"))


def _jsonable(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        try:
            return value.model_dump(mode="json")
        except Exception:
            return repr(value)
    if isinstance(value, BaseException):
        return _one_line(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return repr(value)


class _RunConsole:
    """What `agentflow run` writes and reads: event lines and the result on stdout,
    prompts and the status line on stderr, answers from stdin."""

    _FRAMES = "|/-\\"

    def __init__(self, stdout: IO[str], stderr: IO[str], stdin: IO[str], status: bool) -> None:
        self._stdout = stdout
        self._stderr = stderr
        self._stdin = stdin
        self._status_enabled = status
        self._status_visible = False
        self._handler: WorkflowHandler | None = None
        self._name = ""
        self._events = 0
        self._started = time.monotonic()
        self._frame = 0

    @contextlib.asynccontextmanager
    async def status(self, handler: WorkflowHandler, name: str) -> AsyncIterator[None]:
        """Keep the status line up to date while the block runs (on a terminal only);
        the redrawing task ends with the block."""
        self._handler, self._name, self._started = handler, name, time.monotonic()
        if not self._status_enabled:
            yield
            return
        self._draw_status()
        ticker = asyncio.create_task(self._redraw_every_tenth_of_a_second())
        try:
            yield
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            self._finish_status()

    async def _redraw_every_tenth_of_a_second(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            if self._status_visible:
                self._draw_status()

    def show_event(self, event: Event) -> None:
        self._events += 1
        self._clear_status()
        print(format_event(event), file=self._stdout, flush=True)
        self._draw_status()

    def show_result(self, result: Any) -> None:
        from agentflow.events import Event

        if isinstance(result, str):
            text = result
        elif isinstance(result, Event):
            text = format_event(result)
        else:
            text = _compact_json(result)
        print(f"result: {text}", file=self._stdout, flush=True)

    async def ask(self, prompt: str) -> str | None:
        """A line from stdin after writing `prompt` to stderr; None at end of input."""
        self._clear_status()
        self._stdout.flush()
        self._stderr.write(prompt)
        self._stderr.flush()
        line = await _read_line(self._stdin)
        if not self._stdin.isatty():
            self._stderr.write("\n")  # the answer was not echoed: end the prompt's line
        self._draw_status()
        return None if line is None else line.rstrip("\r\n")

    def _draw_status(self) -> None:
        if not self._status_enabled or self._handler is None:
            return
        self._frame = (self._frame + 1) % len(self._FRAMES)
        executions = self._handler.step_executions
        busiest = sorted(executions.items(), key=lambda item: -item[1])
        steps = ", ".join(f"{step} x{count}" for step, count in busiest)
        line = (
            f"{self._FRAMES[self._frame]} {self._name} {time.monotonic() - self._started:.1f}s"
            f" | events: {self._events} | step runs: {sum(executions.values())}"
            + (f" ({steps})" if steps else "")
        )
        width = shutil.get_terminal_size((80, 24)).columns - 1
        self._stderr.write("\r\x1b[K" + line[:width])
        self._stderr.flush()
        self._status_visible = True

    def _clear_status(self) -> None:
        if self._status_visible:
            self._stderr.write("\r\x1b[K")
            self._stderr.flush()
            self._status_visible = False

    def _finish_status(self) -> None:
        self._clear_status()
        assert self._handler is not None
        runs = sum(self._handler.step_executions.values())
        elapsed = time.monotonic() - self._started
        self._stderr.write(
            f"{self._name} ended after {elapsed:.1f}s (events: {self._events}, step runs: {runs})\n"
        )
        self._stderr.flush()


async def _read_line(stream: IO[str]) -> str | None:
    """One line from `stream` without blocking the event loop. A daemon thread rather than
    `asyncio.to_thread`: a read that never returns (Ctrl-C at a prompt) must not keep the
    process alive, and asyncio.run waits for the default executor's threads."""
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[str] = loop.create_future()

    def settle(line: str) -> None:
        if not answered.done():
            answered.set_result(line)

    def read() -> None:
        try:
            line = stream.readline()
        except (OSError, ValueError):
            line = ""
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(settle, line)

    threading.Thread(target=read, name="agentflow stdin", daemon=True).start()
    line = await answered
    return line or None
