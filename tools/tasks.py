"""Running an async tool call in a task of its own, which the caller can walk away from.

A coroutine awaited directly runs in the caller's task, so a tool that catches
CancelledError and carries on would hold its caller past the timeout with no way out. In
a task of its own it can be left behind. `FunctionTool` runs a call here when it has a
timeout; without one there is nothing to walk away from, and the call is a plain await.
(The price of a task of its own: it is not its caller's task, so a tool reading state
waits, as any other task does, for a `ctx.store.edit_state()` block its caller holds.)

- The tool ends in time: its result, or its exception.
- The tool's task ends cancelled although nothing here cancelled it (the tool cancelled
  its own task): `ToolCancelledError`.
- The timeout is up: the task is cancelled and abandoned at once, and the caller gets
  `TimeoutError` without waiting for the tool to honour the cancel.
- The caller is cancelled: the task is cancelled, and the caller waits for it to end (its
  `finally` blocks run before the caller's cancellation goes on), for no longer than what
  is left of the timeout; then, or at a second cancel of the caller, it is abandoned.

What happens to an abandoned task: it has been cancelled once. A tool that honours that
ends at once; one that ignores it runs on, as a task of the loop named after the call
with " (abandoned)" added, until it ends or the loop shuts down: `asyncio.run` cancels
every remaining task then, and waits for them (a coroutine that refuses every cancel
holds up that shutdown; nothing in asyncio can stop it). Until it ends it is held here: a
pending task that only the loop knows of can be garbage-collected mid-await ("Task was
destroyed but it is pending"). When it ends, its exception, if any, is logged on the
`tools.tasks` logger, so that asyncio never reports it as "never retrieved"; a late result
is dropped, since the caller has gone on without it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from tools.errors import ToolCancelledError
from tools.threads import start_in_thread

T = TypeVar("T")

_log = logging.getLogger(__name__)
_abandoned: set[asyncio.Task[Any]] = set()


async def await_in_own_task(
    coroutine: Coroutine[Any, Any, T], timeout: float | None, name: str
) -> T:
    """Run `coroutine` in a new task named `name` and return what it returns, within
    `timeout` seconds (None: no limit). Raises `TimeoutError` when the time is up,
    `ToolCancelledError` when the task ends cancelled by anything but this function, and
    `CancelledError` when the caller is cancelled (the task is cancelled too)."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    task = loop.create_task(coroutine, name=name)
    try:
        await asyncio.wait((task,), timeout=timeout)
    except asyncio.CancelledError:
        await _cancel_and_wait(task, deadline)
        raise
    if not task.done():
        task.cancel()
        _abandon(task)
        raise TimeoutError(f"{name} did not finish within {timeout} s")
    if task.cancelled():
        raise ToolCancelledError(
            f"the task of {name} was cancelled, but neither by its caller nor at its timeout"
        )
    return task.result()


def run_coroutine_blocking(make: Callable[[], Coroutine[Any, Any, T]], name: str) -> T:
    """Run the coroutine `make()` from sync code, on an event loop of its own in a daemon
    thread (this thread may be running a loop already: the caller's, busy calling us), and
    return as soon as it has a result. Tasks it abandoned keep that thread, and no other,
    until the loop's shutdown is over."""
    outcome: Future[T] = Future()

    async def main() -> None:
        try:
            outcome.set_result(await make())
        except BaseException as error:  # handed to the caller, who re-raises it
            outcome.set_exception(error)

    start_in_thread(asyncio.run, (main(),), {}, name)
    return outcome.result()


async def _cancel_and_wait(task: asyncio.Task[Any], deadline: float | None) -> None:
    task.cancel()
    remaining = None if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())
    try:
        await asyncio.wait((task,), timeout=remaining)
    finally:
        if task.done():
            _retrieve(task)  # the caller is cancelled: nobody will read the outcome
        else:
            _abandon(task)


def _abandon(task: asyncio.Task[Any]) -> None:
    task.set_name(f"{task.get_name()} (abandoned)")
    _abandoned.add(task)
    task.add_done_callback(_on_abandoned_end)


def _on_abandoned_end(task: asyncio.Task[Any]) -> None:
    _abandoned.discard(task)
    error = _retrieve(task)
    if error is not None:
        _log.warning(
            "%s raised %s; its caller had already gone on without it",
            task.get_name(),
            type(error).__name__,
            exc_info=error,
        )


def _retrieve(task: asyncio.Task[Any]) -> BaseException | None:
    """The task's exception, read so that asyncio does not report it as never retrieved."""
    return None if task.cancelled() else task.exception()
