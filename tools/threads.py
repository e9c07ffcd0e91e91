"""Running a sync call off the event loop, in a thread the caller can walk away from.

A Python thread cannot be stopped from outside. When a sync tool overruns its timeout, or
the run awaiting a blocking call is cancelled, the caller goes on at once and the call runs
on to its end in its own daemon thread: it never holds a thread of the loop's default
executor (which other code shares, and which `asyncio.run()` waits for before it returns)
and never keeps the interpreter from exiting. (The engine has a pool of such threads for
sync steps; `import tools` loads none of the engine, and a tool call, or one of the agents'
few blocking calls, a file read or an index build, is worth a thread of its own.)
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def start_in_thread(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], name: str
) -> Future[Any]:
    """Start `fn(*args, **kwargs)` in a new daemon thread named "tool `name`"; its future
    holds the outcome.

    The call sees a copy of the caller's context variables, as `asyncio.to_thread` does.
    """
    return _start(fn, args, kwargs, f"tool {name}")


async def run_in_thread(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`await asyncio.to_thread(fn, *args, **kwargs)`, but in a daemon thread of its own
    (named after `fn`): cancelling the caller gives the call up, and the call, left to end
    on its own, holds up neither other blocking calls nor `asyncio.run()`'s return."""
    name = getattr(fn, "__qualname__", type(fn).__name__)
    future: Future[T] = _start(fn, args, kwargs, name)
    return await asyncio.wrap_future(future)


def _start(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], thread_name: str
) -> Future[Any]:
    future: Future[Any] = Future()
    context = contextvars.copy_context()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = context.run(fn, *args, **kwargs)
        except BaseException as error:  # handed to whoever awaits the future
            future.set_exception(error)
        else:
            future.set_result(result)

    threading.Thread(target=run, name=thread_name, daemon=True).start()
    return future
