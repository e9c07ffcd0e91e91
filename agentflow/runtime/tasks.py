"""The one owner of every task a run starts: its driver and its step workers (and of how
to let go of what the workflow holds for the run, which the driver does last).

A run is done only when all of them are: the driver, which waits for the outcome, stops the
workers through this owner before it resolves the handler. `asyncio.TaskGroup` does not fit:
it cancels every task when one fails, while a failing step must go through the run's retry
and `@catch_error` handling, and it needs an `async with` block open for the run's whole life
in the caller's task, which `Workflow.run()` (a plain function returning a handler) has not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any


class RunTasks(set["asyncio.Task[Any]"]):
    """The live workers of one run (the set's elements, each removing itself once done)
    and its driver. A set itself rather than an object holding one: thousands of runs may
    wait at once, and each holds one of these."""

    __slots__ = ("driver", "let_go")

    def __init__(self) -> None:
        super().__init__()
        self.driver: asyncio.Task[None] | None = None
        self.let_go: Callable[[], Awaitable[None]] | None = None
        """How to let go of what the workflow's `hold_for_run` took for the run."""

    def start_driver(
        self, loop: asyncio.AbstractEventLoop, driver: Coroutine[Any, Any, None]
    ) -> None:
        self.driver = loop.create_task(driver)

    def start_worker(
        self, loop: asyncio.AbstractEventLoop, worker: Coroutine[Any, Any, None]
    ) -> None:
        task = loop.create_task(worker)
        self.add(task)
        task.add_done_callback(self.discard)

    def abandon(self) -> None:
        """Undo a start that failed halfway: the driver and the workers started so far are
        cancelled before they ever ran, so none of them acts on a run that never began."""
        if self.driver is not None:
            self.driver.cancel()
        for task in self:
            task.cancel()

    async def stop_workers(self) -> None:
        """Cancel and await every worker still running. A cancelled worker's `finally` may
        still dispatch; dispatch is a no-op once the outcome is decided, so this loop ends
        after at most a couple of rounds. Workers that have already finished (the one that
        returned the StopEvent, typically) are left to their done callbacks: awaiting them
        would cost a turn of the loop."""
        while tasks := [task for task in self if not task.done()]:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
