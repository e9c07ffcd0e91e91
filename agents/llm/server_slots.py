"""`ServerSlots`: at most `limit` requests in flight to one server from this process.

A local server often answers one request at a time (llama.cpp with one slot, Ollama with
`OLLAMA_NUM_PARALLEL=1`) and queues the others, and a client's timeout runs while a request
waits in that queue: of four workers' requests sent at once, the fourth has to wait through
three other replies within its own timeout. Requests beyond the limit wait here instead,
before they are sent, where no timeout runs.

The limit is the server's, so the queue is too: every client given a limit for one base URL
shares one queue. A workflow often holds several clients of one server (an `AgentWorkflow`'s
agents, a client's `from_env()` called in several places), and a queue each would let each send
its own share. Clients of one server must ask for the same limit; a client that asks for
none is not held. There is one queue per event loop, as an asyncio semaphore belongs to one
loop (each `asyncio.run`, each test, has its own).

A client builds its slots with `slots_for(base_url, max_concurrency)` and holds one with
`held(slots)` while a request is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from dataclasses import dataclass
from typing import Any

from agents.llm.client_settings import checked_setting
from agents.llm.errors import LLMConfigurationError


@dataclass(frozen=True)
class _Queue:
    limit: int
    semaphore: asyncio.Semaphore


_QUEUES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Queue]] = (
    weakref.WeakKeyDictionary()
)


class ServerSlots:
    """The slots of the server at `base_url`, `limit` of them:

    ```python
    async with slots.semaphore():  # waits while `limit` requests are in flight
        reply = await send(request)
    ```
    """

    def __init__(self, base_url: str, limit: int) -> None:
        self.base_url = base_url
        """The server's base URL: clients with the same one share the slots."""
        self.limit = limit
        """How many requests may be in flight to the server at once."""

    def semaphore(self) -> asyncio.Semaphore:
        """The running loop's semaphore for this server, shared with every other client of
        it. Raises `LLMConfigurationError` when another client asked for another limit."""
        queues = _QUEUES.setdefault(asyncio.get_running_loop(), {})
        queue = queues.get(self.base_url)
        if queue is None:
            queue = queues[self.base_url] = _Queue(self.limit, asyncio.Semaphore(self.limit))
        elif queue.limit != self.limit:
            raise LLMConfigurationError(
                f"two clients of {self.base_url} ask for max_concurrency {queue.limit} and "
                f"{self.limit}: requests to one server wait in one queue, so give its clients "
                "one max_concurrency"
            )
        return queue.semaphore


def slots_for(base_url: str, max_concurrency: int | None) -> ServerSlots | None:
    """The slots a client given `max_concurrency` holds for the server at `base_url`: None
    when it gives none (its requests are not held). Raises `LLMConfigurationError` naming
    the value when it is not a whole number, 1 or more."""
    if max_concurrency is None:
        return None
    return ServerSlots(base_url, checked_setting("max_concurrency", max_concurrency))


def held(slots: ServerSlots | None) -> contextlib.AbstractAsyncContextManager[Any]:
    """Held while a request is in flight (a stream: until it ends); with no slots, at once."""
    return slots.semaphore() if slots is not None else contextlib.nullcontext()
