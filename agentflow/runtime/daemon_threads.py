"""Threads for blocking calls made from the event loop (sync steps), which nobody has to
wait for.

A Python thread cannot be stopped from outside, so a sync step abandoned by its run (the
run timed out or was cancelled) goes on in its thread until it returns by itself. On the
loop's default executor such a step keeps one of its few threads: a handful of them starve
every later `asyncio.to_thread` of the process, and `asyncio.run()` waits for them before
it returns. Here the threads are daemons (they never keep the process alive), a call gets a
new thread whenever none is idle, and a call given up by its awaiter frees its slot at
once, so an abandoned call holds only its own thread. The standard library has no such
pool: `ThreadPoolExecutor` joins its threads at interpreter exit and never grows past
`max_workers`, so it is written here, on top of `queue.SimpleQueue` and a semaphore.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import queue
import threading
import weakref
from collections.abc import Callable
from itertools import count
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_MAX_RUNNING = min(32, (os.cpu_count() or 1) + 4)
"""Calls of one event loop running at once, as many as asyncio's default executor has
threads; calls given up by their awaiter no longer count."""

DEFAULT_IDLE_SECONDS = 30.0
"""How long a thread with nothing to do waits for a call before it ends."""


class DaemonThreads:
    """A growing set of daemon threads, reused while idle, that run blocking calls."""

    def __init__(
        self,
        name: str,
        *,
        max_running: int = DEFAULT_MAX_RUNNING,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        self._name = name
        self._max_running = max_running
        self._idle_seconds = idle_seconds
        self._calls: queue.SimpleQueue[Callable[[], Callable[[], None]]] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        """One release per thread waiting for a call."""
        self._numbers = count(1)
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def run(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args, **kwargs)` in one of these threads, with a copy of the caller's
        context variables (as `asyncio.to_thread`). Cancelling the caller gives the call
        up: its result is dropped whenever it comes, and it no longer takes a slot."""
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self._max_running)
        async with slots:
            outcome: asyncio.Future[T] = loop.create_future()
            context = contextvars.copy_context()

            def call() -> Callable[[], None]:
                try:
                    result = context.run(function, *args, **kwargs)
                except BaseException as error:  # handed to the awaiter, as to_thread does
                    return functools.partial(_report, loop, outcome, error, True)
                return functools.partial(_report, loop, outcome, result, False)

            self._submit(call)
            return await outcome

    def _submit(self, call: Callable[[], Callable[[], None]]) -> None:
        """Run `call` in an idle thread, or in a new one if none is idle. It returns what
        reports its outcome; neither may raise."""
        self._calls.put(call)
        if not self._idle.acquire(blocking=False):
            thread = threading.Thread(
                target=self._serve, name=f"{self._name} {next(self._numbers)}", daemon=True
            )
            thread.start()

    def _serve(self) -> None:
        while True:
            try:
                call = self._calls.get(timeout=self._idle_seconds)
            except queue.Empty:
                # Taking an idle mark back means no caller counts on this thread: it may
                # end. If a caller took them all, a call is on its way: serve it.
                if self._idle.acquire(blocking=False):
                    return
                continue
            report = call()
            # The call holds its arguments (a sync step's workflow and context among them):
            # dropped before this thread waits, perhaps for long, for the next one.
            del call
            # Idle before the report, so that the next call its caller makes finds this
            # thread free instead of starting another.
            self._idle.release()
            report()
            del report


def _report(
    loop: asyncio.AbstractEventLoop, outcome: asyncio.Future[Any], value: Any, failed: bool
) -> None:
    # The loop may be closed by now (its run ended without waiting for this thread):
    # nobody is left to tell.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, outcome, value, failed)


def _settle(outcome: asyncio.Future[Any], value: Any, failed: bool) -> None:
    if outcome.done():  # the awaiter gave the call up
        return
    if failed:
        outcome.set_exception(value)
    else:
        outcome.set_result(value)


_SHARED = DaemonThreads("agentflow blocking call")


async def run_in_daemon_thread(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`await asyncio.to_thread(function, *args, **kwargs)`, in a daemon thread that
    nobody waits for once the call is given up (see the module docstring)."""
    return await _SHARED.run(function, *args, **kwargs)
