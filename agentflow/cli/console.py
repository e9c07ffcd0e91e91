"""What `agentflow run` writes and reads: events and the result on stdout, prompts and the
status line on stderr, answers from stdin.

Streamed text (see `formatting.streamed_text`) is written as it comes, on one running line
per run of deltas of one event class; anything else written ends that line first, and the
status line stays away while it is open, so a redraw cannot erase text mid-line.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import shutil
import time
from collections.abc import AsyncIterator
from typing import IO, TYPE_CHECKING, Any

from agentflow.cli.formatting import (
    event_json,
    format_event,
    result_json,
    result_text,
    streamed_text,
)
from agentflow.events import Event, StopEvent
from agentflow.runtime.daemon_threads import DaemonThreads

if TYPE_CHECKING:
    from agentflow.handler import WorkflowHandler


class OutputMode(enum.Enum):
    """What goes to stdout."""

    READABLE = "readable"
    """Event lines with long fields cut, streamed text as running text, `result: text`."""
    JSON = "json"
    """One JSON object per event, in full, then `{"result": ...}`."""
    QUIET = "quiet"
    """The result alone, as text."""


class RunConsole:
    """The terminal side of one `agentflow run`."""

    _FRAMES = "|/-\\"

    def __init__(
        self,
        stdout: IO[str],
        stderr: IO[str],
        stdin: IO[str],
        *,
        status: bool,
        mode: OutputMode = OutputMode.READABLE,
        event_names: frozenset[str] | None = None,
    ) -> None:
        """`status`: keep a status line on stderr; `event_names`: show only events of
        these class names (None: all)."""
        self._stdout = stdout
        self._stderr = stderr
        self._stdin = stdin
        self._mode = mode
        self._event_names = event_names
        self._status_enabled = status and mode is not OutputMode.QUIET
        self._status_visible = False
        self._text_of: type[Event] | None = None
        """The event class whose streamed text is on the open stdout line, if one is."""
        self._streamed_names: set[str] = set()
        self._handler: WorkflowHandler | None = None
        self._name = ""
        self._events = 0
        self._started = time.monotonic()
        self._frame = 0

    @contextlib.asynccontextmanager
    async def running(self, handler: WorkflowHandler, name: str) -> AsyncIterator[None]:
        """Around the run: a status line kept up to date (on a terminal only), and at the
        end the open line of streamed text ended and the status line replaced by a
        summary. The redrawing task ends with the block."""
        self._handler, self._name, self._started = handler, name, time.monotonic()
        ticker = None
        if self._status_enabled:
            self._draw_status()
            ticker = asyncio.create_task(self._redraw_every_tenth_of_a_second())
        try:
            yield
        finally:
            self._end_text()
            if ticker is not None:
                ticker.cancel()
                await asyncio.gather(ticker, return_exceptions=True)
                self._finish_status()

    async def _redraw_every_tenth_of_a_second(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            if self._status_visible:
                self._draw_status()

    def show_event(self, event: Event) -> None:
        """Write `event` as the output mode says, unless `--events` leaves it out."""
        self._events += 1
        name = type(event).__name__
        self._streamed_names.add(name)
        if self._mode is OutputMode.QUIET or (
            self._event_names is not None and name not in self._event_names
        ):
            return
        if self._mode is OutputMode.JSON:
            self._write_line(event_json(event))
            return
        if isinstance(event, StopEvent):
            return  # the run's end: the result line (or the error line) says it
        text = streamed_text(event)
        if text is None:
            self._write_line(format_event(event))
        elif type(event) is self._text_of:
            self._stdout.write(text)
            self._stdout.flush()
        else:
            self._end_text()
            self._clear_status()
            self._stdout.write(f"{name}: {text}")
            self._stdout.flush()
            self._text_of = type(event)

    def show_result(self, result: Any) -> None:
        """Write the run's result: `result: text`, `{"result": ...}` or the text alone."""
        if self._mode is OutputMode.JSON:
            line = result_json(result)
        elif self._mode is OutputMode.QUIET:
            line = result_text(result)
        else:
            line = f"result: {result_text(result)}"
        self._write_line(line)

    def note_unseen_event_names(self) -> None:
        """After the run: say which `--events` names matched no streamed event (a typo, or
        an event this run did not stream), listing the names that were streamed."""
        if self._event_names is None:
            return
        for name in sorted(self._event_names - self._streamed_names):
            streamed = ", ".join(sorted(self._streamed_names)) or "none"
            self._stderr.write(
                f"agentflow: note: --events: no {name} event was streamed (streamed: {streamed})\n"
            )
        self._stderr.flush()

    async def ask(self, prompt: str) -> str | None:
        """A line from stdin after writing `prompt` to stderr; None at end of input."""
        self._end_text()
        self._clear_status()
        self._stdout.flush()
        self._stderr.write(prompt)
        self._stderr.flush()
        line = await _read_line(self._stdin)
        if not self._stdin.isatty():
            self._stderr.write("\n")  # the answer was not echoed: end the prompt's line
        self._draw_status()
        return None if line is None else line.rstrip("\r\n")

    def _write_line(self, line: str) -> None:
        self._end_text()
        self._clear_status()
        print(line, file=self._stdout, flush=True)
        self._draw_status()

    def _end_text(self) -> None:
        if self._text_of is not None:
            self._stdout.write("\n")
            self._stdout.flush()
            self._text_of = None

    def _draw_status(self) -> None:
        if not self._status_enabled or self._handler is None or self._text_of is not None:
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
        self._status_enabled = False  # the run is over: the result is written without it
        assert self._handler is not None
        runs = sum(self._handler.step_executions.values())
        elapsed = time.monotonic() - self._started
        self._stderr.write(
            f"{self._name} ended after {elapsed:.1f}s (events: {self._events}, step runs: {runs})\n"
        )
        self._stderr.flush()


_STDIN_READERS = DaemonThreads("agentflow stdin", max_running=1)
"""The runtime's daemon threads, but slots of their own: sync steps that fill the shared
ones may be waiting for the very answer being read."""


async def _read_line(stream: IO[str]) -> str | None:
    """One line from `stream` without blocking the event loop: a read that never returns
    (Ctrl-C at a prompt) keeps only its own daemon thread, which neither holds up
    `asyncio.run()` nor keeps the process alive."""
    try:
        line = await _STDIN_READERS.run(stream.readline)
    except (OSError, ValueError):  # stdin closed or unreadable: as at its end
        return None
    return line or None
