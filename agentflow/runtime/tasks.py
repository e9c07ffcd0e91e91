"""The one owner of every task a run starts: its driver and its step workers.

A run is done only when all of them are: the driver, which waits for the outcome, stops the
workers through this owner before it resolves the handler. `asyncio.TaskGroup` does not fit:
it cancels every task when one fails, while a failing step must go through the run's retry
and `@catch_error` handling, and it needs an `async with` block open for the run's whole life
in the caller's task, which `Workflow.run()` (a plain function returning a handler) has not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class RunTasks:
    """The driver and the live workers of one run."""

    __slots__ = ("driver", "loop", "workers")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.driver: asyncio.Task[None] | None = None
        self.workers: set[asyncio.Task[Any]] = set()
        """Workers still running; each removes itself once done."""

    def start_driver(self, driver: Coroutine[Any, Any, None]) -> None:
        self.driver = self.loop.create_task(driver)

    def start_worker(self, worker: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(worker)
        self.workers.add(task)
        task.add_done_callback(self.workers.discard)

    def abandon(self) -> None:
        """Undo a start that failed halfway: the driver and the workers started so far are
        cancelled before they ever ran, so none of them acts on a run that never began."""
        if self.driver is not None:
            self.driver.cancel()
        for task in self.workers:
            task.cancel()

    async def stop_workers(self) -> None:
        """Cancel and await every worker still running. A cancelled worker's `finally` may
        still dispatch; dispatch is a no-op once the outcome is decided, so this loop ends
        after at most a couple of rounds. Workers that have already finished (the one that
        returned the StopEvent, typically) are left to their done callbacks: awaiting them
        would cost a turn of the loop."""
        while tasks := [task for task in self.workers if not task.done()]:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
