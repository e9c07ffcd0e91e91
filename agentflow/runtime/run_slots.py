"""`RunSlots`: at most so many runs of one workflow instance at once (`num_concurrent_runs`).

A run takes a slot when it starts and gives it back once its tasks are gone; a run started
while every slot is taken waits, first come first served, and its start event is delivered
(and its timeout starts) only when it gets one. A run that takes a free slot starts exactly
as an unlimited run does, its start event delivered before `run()` returns.

Written by hand rather than with `asyncio.Semaphore`: a free slot must be taken without
awaiting (`run()` is a plain function), and one workflow instance may serve runs on one
event loop after another, while a semaphore stays bound to the first loop it waited on.
"""

from __future__ import annotations

import asyncio
from collections import deque


class RunSlots:
    """The slots of one workflow instance, and the runs waiting for one."""

    __slots__ = ("limit", "taken", "waiting")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        """Most runs going at once."""
        self.taken = 0
        self.waiting: deque[asyncio.Future[None]] = deque()
        """One future per waiting run, oldest first; done once that run holds a slot."""

    def try_take(self) -> bool:
        """Take a slot if one is free and nobody waits for it; True when taken."""
        if self.taken < self.limit and not self.waiting:
            self.taken += 1
            return True
        return False

    def wait(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """A future done once the caller holds a slot (given by `give_back`, in turn)."""
        turn = loop.create_future()
        self.waiting.append(turn)
        return turn

    def withdraw(self, turn: asyncio.Future[None]) -> None:
        """The run waiting on `turn` no longer needs a slot (it was cancelled while it
        waited); a slot already handed to it goes to the next run."""
        if turn.done() and not turn.cancelled():
            self.give_back()
            return
        turn.cancel()
        if turn in self.waiting:
            self.waiting.remove(turn)

    def give_back(self) -> None:
        """A run holding a slot has ended: the oldest waiting run gets the slot."""
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot passes on: `taken` stays as it is
                return
        self.taken -= 1
