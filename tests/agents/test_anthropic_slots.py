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
from slot_checks import TwoAtOnceServer, read_a_stream_then_chat
from wire_mock import mock_wire

from agents.llm import Anthropic, ChatMessage, LLMConfigurationError


async def test_requests_beyond_the_limit_wait_here() -> None:
    server = TwoAtOnceServer(lambda: whole(text("ok")))
    with mock_wire(base_url=BASE_URL) as api:
        api.post(MESSAGES).mock(side_effect=server)
        llm = Anthropic("m", api_key="k", base_url=BASE_URL, max_concurrency=2)

        await asyncio.gather(*(llm.achat([ChatMessage.user(str(n))]) for n in range(6)))

    assert server.most == 2


async def test_a_stream_holds_its_place_until_it_ends() -> None:
    order: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        kind = "stream" if json.loads(request.content).get("stream") else "chat"
        order.append(f"{kind} sent")
        return streamed(text("Hel lo")) if kind == "stream" else whole(text("ok"))

    with mock_wire(base_url=BASE_URL) as api:
        api.post(MESSAGES).mock(side_effect=server)
        llm = Anthropic("m", api_key="k", base_url=BASE_URL, max_concurrency=1)
        await read_a_stream_then_chat(llm, order)

    assert order == ["stream sent", "stream ended", "chat sent"]


async def test_clients_of_one_server_must_agree_on_the_limit() -> None:
    with mock_wire(base_url=BASE_URL) as api:
        api.post(MESSAGES).mock(return_value=whole(text("ok")))
        one = Anthropic("m", api_key="k", base_url=BASE_URL, max_concurrency=1)
        two = Anthropic("m", api_key="k", base_url=BASE_URL, max_concurrency=2)
        await one.achat([ChatMessage.user("hi")])

        with pytest.raises(LLMConfigurationError, match="ask for max_concurrency 1 and 2"):
            await two.achat([ChatMessage.user("hi")])
