"""Running a sync tool function off the event loop, in a thread the caller can walk away from.

A Python thread cannot be stopped from outside. When a sync tool overruns its timeout the
caller gets its error output at once and the function runs on to its end in its own
daemon thread: it never holds a slot of the loop's default executor (which other code
shares) and never keeps the interpreter from exiting.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


def start_in_thread(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], name: str
) -> Future[Any]:
    """Start `fn(*args, **kwargs)` in a new daemon thread; its future holds the outcome.

    The call sees a copy of the caller's context variables, as `asyncio.to_thread` does.
    """
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

    threading.Thread(target=run, name=f"tool {name}", daemon=True).start()
    return future
