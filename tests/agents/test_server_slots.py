"""`max_concurrency`: requests to one server beyond the limit wait in this process (where no
timeout runs), shared by every client of that server; a stream holds its place to the end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from llm_wire import BASE_URL, chunk, completion, text_reply
from slot_checks import TwoAtOnceServer, read_a_stream_then_chat

from agents.llm import ChatMessage, LLMConfigurationError, LLMTimeoutError
from agents.llm.openai.client import OpenAI


class HeldServer:
    """A server that answers each request only when the test lets it, and counts how many
    requests it held at once (a server that answers one at a time would queue the rest,
    their timeouts running)."""

    def __init__(self) -> None:
        self.held = 0
        self.most = 0
        self.arrived: asyncio.Queue[asyncio.Event] = asyncio.Queue()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.held += 1
        self.most = max(self.most, self.held)
        answer = asyncio.Event()
        self.arrived.put_nowait(answer)
        await answer.wait()
        self.held -= 1
        text = json.loads(request.content)["messages"][-1]["content"]
        return httpx.Response(200, json=completion(f"re: {text}"))

    async def answer_in_turn(self, count: int) -> None:
        for _ in range(count):
            (await self.arrived.get()).set()


class OneSlotServer:
    """A server that answers one request at a time, as llama.cpp with one slot does: the
    others wait in its queue with their client's read timeout running. respx serves requests
    without a socket, so httpx never times one out; the timer it would run is modelled here,
    from the timeout each request carries: a request still queued when it runs out gets
    httpx's ReadTimeout. Its first reply takes as long as the test says (`finish_first`), the
    others none; each is taken to come within the timeout, since what the limit changes is
    where a request waits."""

    def __init__(self) -> None:
        self._slot = asyncio.Lock()
        self._taken = 0
        self.working_on_first = asyncio.Event()
        self.finish_first = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        try:
            async with asyncio.timeout(request.extensions["timeout"]["read"]):
                await self._slot.acquire()
        except TimeoutError:
            raise httpx.ReadTimeout("no reply within the read timeout", request=request) from None
        try:
            self._taken += 1
            if self._taken == 1:
                self.working_on_first.set()
                await self.finish_first.wait()
        finally:
            self._slot.release()
        text = json.loads(request.content)["messages"][-1]["content"]
        return httpx.Response(200, json=completion(f"re: {text}"))


async def test_without_a_limit_a_request_queued_at_a_one_slot_server_times_out(
    api: respx.MockRouter,
) -> None:
    server = OneSlotServer()
    api.post("/chat/completions").mock(side_effect=server)
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, timeout=0.05)
    first = asyncio.create_task(llm.achat([ChatMessage.user("first")]))
    await server.working_on_first.wait()

    # The second goes straight to the server, busy with the first: its timeout runs there.
    with pytest.raises(LLMTimeoutError) as caught:
        await llm.achat([ChatMessage.user("second")])

    server.finish_first.set()
    assert (await first).message.text == "re: first"
    message = str(caught.value)
    assert "did not answer within 0.05 s (1 attempt)" in message
    assert "OPENAI_MAX_CONCURRENCY=1" in message  # the way out of the server's queue


async def test_with_max_concurrency_1_both_requests_to_a_one_slot_server_complete(
    api: respx.MockRouter,
) -> None:
    server = OneSlotServer()
    api.post("/chat/completions").mock(side_effect=server)
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, timeout=0.05, max_concurrency=1)
    first = asyncio.create_task(llm.achat([ChatMessage.user("first")]))
    await server.working_on_first.wait()
    second = asyncio.create_task(llm.achat([ChatMessage.user("second")]))

    # A client without the limit and with twice the timeout: its request waits at the
    # server, so once it has timed out the second has waited longer than its own timeout,
    # here, where that does not run (sent to the server, it would have timed out first).
    unlimited = OpenAI("m", api_key="k", base_url=BASE_URL, timeout=0.1)
    with pytest.raises(LLMTimeoutError):
        await unlimited.achat([ChatMessage.user("sent after the second")])
    server.finish_first.set()

    replies = await asyncio.gather(first, second)
    assert [reply.message.text for reply in replies] == ["re: first", "re: second"]


async def test_four_workers_send_one_request_at_a_time_with_max_concurrency_1(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setenv("OPENAI_MAX_CONCURRENCY", "1")
    server = HeldServer()
    route = api.post("/chat/completions").mock(side_effect=server)
    # Two clients of one server, as two agents made with from_env() would hold.
    first, second = OpenAI.from_env(), OpenAI.from_env()
    workers = [
        asyncio.create_task(llm.achat([ChatMessage.user(f"chunk {n}")]))
        for n, llm in enumerate([first, second, first, second])
    ]

    await server.answer_in_turn(4)
    replies = await asyncio.gather(*workers)

    assert server.most == 1  # without the limit, all four wait at the server at once
    assert route.call_count == 4
    assert sorted(reply.message.text for reply in replies) == [f"re: chunk {n}" for n in range(4)]


async def test_max_concurrency_2_lets_two_in_at_once(api: respx.MockRouter) -> None:
    server = TwoAtOnceServer(lambda: httpx.Response(200, json=completion("ok")))
    api.post("/chat/completions").mock(side_effect=server)
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, max_concurrency=2)

    await asyncio.gather(*(llm.achat([ChatMessage.user(str(n))]) for n in range(6)))

    assert server.most == 2


async def test_a_stream_holds_its_place_until_it_ends(api: respx.MockRouter) -> None:
    order: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        kind = "stream" if json.loads(request.content).get("stream") else "chat"
        order.append(f"{kind} sent")
        if kind == "chat":
            return httpx.Response(200, json=completion("ok"))
        return text_reply("Hel", "lo")

    api.post("/chat/completions").mock(side_effect=server)

    await read_a_stream_then_chat(
        OpenAI("m", api_key="k", base_url=BASE_URL, max_concurrency=1), order
    )

    assert order == ["stream sent", "stream ended", "chat sent"]


async def test_a_stream_left_early_gives_its_place_back(api: respx.MockRouter) -> None:
    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield f"data: {json.dumps(chunk({'content': 'more '}))}\n\n".encode()

    def server(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("stream"):
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, headers=headers, stream=endless())
        return httpx.Response(200, json=completion("next"))

    api.post("/chat/completions").mock(side_effect=server)
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, max_concurrency=1)

    stream = llm.astream_chat([ChatMessage.user("tell me everything")])
    first = await anext(stream)
    await stream.aclose()
    reply = await asyncio.wait_for(llm.achat([ChatMessage.user("next")]), timeout=10)

    assert first.delta == "more "
    assert reply.message.text == "next"


async def test_clients_of_one_server_must_agree_on_the_limit(api: respx.MockRouter) -> None:
    api.post("/chat/completions").respond(200, json=completion("ok"))
    one = OpenAI("m", api_key="k", base_url=BASE_URL, max_concurrency=1)
    two = OpenAI("m", api_key="k", base_url=BASE_URL, max_concurrency=2)
    await one.achat([ChatMessage.user("hi")])

    with pytest.raises(LLMConfigurationError) as caught:
        await two.achat([ChatMessage.user("hi")])

    assert str(caught.value) == (
        f"two clients of {BASE_URL}/ ask for max_concurrency 1 and 2: requests to one "
        "server wait in one queue, so give its clients one max_concurrency"
    )
    api.post("https://other.test/v1/chat/completions").respond(200, json=completion("ok"))
    other_server = OpenAI("m", api_key="k", base_url="https://other.test/v1", max_concurrency=2)
    await other_server.achat([ChatMessage.user("hi")])  # another server, another queue


async def test_clients_without_a_limit_are_not_held(api: respx.MockRouter) -> None:
    server = HeldServer()
    api.post("/chat/completions").mock(side_effect=server)
    limited = OpenAI("m", api_key="k", base_url=BASE_URL, max_concurrency=1)
    free = OpenAI("m", api_key="k", base_url=BASE_URL)
    first = asyncio.create_task(limited.achat([ChatMessage.user("limited")]))
    first_answer = await server.arrived.get()  # at the server, held there

    second = asyncio.create_task(free.achat([ChatMessage.user("free")]))
    (await server.arrived.get()).set()  # arrives all the same: its client asked for no limit
    assert (await second).message.text == "re: free"
    first_answer.set()
    assert (await first).message.text == "re: limited"
    assert server.most == 2
