"""`Anthropic(max_concurrency=...)` holds the same server slots as `OpenAI`'s
(`agents.llm.server_slots`, tested in depth with OpenAI in `test_server_slots.py`): requests
beyond the limit wait in this process, a stream holds its place to the end, and clients of
one server must agree on the limit."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from anthropic_wire import BASE_URL, MESSAGES, streamed, text, whole
from wire_mock import mock_wire

from agents.llm import Anthropic, ChatMessage, LLMConfigurationError


async def test_requests_beyond_the_limit_wait_here() -> None:
    held = 0
    most = 0
    two_in = asyncio.Event()

    async def server(request: httpx.Request) -> httpx.Response:
        nonlocal held, most
        held += 1
        most = max(most, held)
        if held == 2:
            # Opened on a later turn of the loop, so that a limit letting more than two in
            # would show in `most`.
            asyncio.get_running_loop().call_soon(two_in.set)
        await two_in.wait()
        held -= 1
        return whole(text("ok"))

    with mock_wire(base_url=BASE_URL) as api:
        api.post(MESSAGES).mock(side_effect=server)
        llm = Anthropic("m", api_key="k", base_url=BASE_URL, max_concurrency=2)

        await asyncio.gather(*(llm.achat([ChatMessage.user(str(n))]) for n in range(6)))

    assert most == 2


async def test_a_stream_holds_its_place_until_it_ends() -> None:
    order: list[str] = []
    go_on = asyncio.Event()

    def server(request: httpx.Request) -> httpx.Response:
        kind = "stream" if json.loads(request.content).get("stream") else "chat"
        order.append(f"{kind} sent")
        return streamed(text("Hel lo")) if kind == "stream" else whole(text("ok"))

    with mock_wire(base_url=BASE_URL) as api:
        api.post(MESSAGES).mock(side_effect=server)
        llm = Anthropic("m", api_key="k", base_url=BASE_URL, max_concurrency=1)
        first_read = asyncio.Event()

        async def read_slowly() -> None:
            async for step in llm.astream_chat([ChatMessage.user("stream")]):
                if step.delta:
                    first_read.set()
                    await go_on.wait()
            order.append("stream ended")

        reader = asyncio.create_task(read_slowly())
        await first_read.wait()
        chat = asyncio.create_task(llm.achat([ChatMessage.user("chat")]))
        # The stream goes on from a later turn of the loop: the chat request gets to run
        # first, so one sent while the stream is still open would show in `order`.
        asyncio.get_running_loop().call_soon(go_on.set)
        await asyncio.gather(reader, chat)

    assert order == ["stream sent", "stream ended", "chat sent"]


async def test_clients_of_one_server_must_agree_on_the_limit() -> None:
    with mock_wire(base_url=BASE_URL) as api:
        api.post(MESSAGES).mock(return_value=whole(text("ok")))
        one = Anthropic("m", api_key="k", base_url=BASE_URL, max_concurrency=1)
        two = Anthropic("m", api_key="k", base_url=BASE_URL, max_concurrency=2)
        await one.achat([ChatMessage.user("hi")])

        with pytest.raises(LLMConfigurationError, match="ask for max_concurrency 1 and 2"):
            await two.achat([ChatMessage.user("hi")])
