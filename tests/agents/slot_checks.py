"""What `test_server_slots.py` (OpenAI) and `test_anthropic_slots.py` both check of a client
given `max_concurrency`, whatever its wire: how many requests reach the server at once, and
where a stream's end falls against a request sent while it is read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from agents.llm import ChatMessage


class TwoAtOnceServer:
    """Holds each request until two have arrived together, then answers with `reply()`;
    `most` is how many it held at once."""

    def __init__(self, reply: Callable[[], httpx.Response]) -> None:
        self._reply = reply
        self._held = 0
        self.most = 0
        self._two_in = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self._held += 1
        self.most = max(self.most, self._held)
        if self._held == 2:
            # Opened on a later turn of the loop: requests already started get to arrive
            # first, so a limit that let more than two in would show in `most`.
            asyncio.get_running_loop().call_soon(self._two_in.set)
        await self._two_in.wait()
        self._held -= 1
        return self._reply()


async def read_a_stream_then_chat(llm: Any, order: list[str]) -> None:
    """Read a stream from `llm` slowly and, once its first text is in, send a chat request;
    "stream ended" goes into `order` when the stream is done (the server notes the sends)."""
    go_on, first_read = asyncio.Event(), asyncio.Event()

    async def read_slowly() -> None:
        async for step in llm.astream_chat([ChatMessage.user("stream")]):
            if step.delta:
                first_read.set()
                await go_on.wait()
        order.append("stream ended")

    reader = asyncio.create_task(read_slowly())
    await first_read.wait()
    chat = asyncio.create_task(llm.achat([ChatMessage.user("chat")]))
    # The stream goes on from a later turn of the loop: the chat request gets to run first,
    # so one sent while the stream is still open would show in `order`.
    asyncio.get_running_loop().call_soon(go_on.set)
    await asyncio.gather(reader, chat)
