"""Which failed requests OpenAI sends again: a timed-out request is sent once unless
`retry_timeouts` says otherwise, and the error says the timeout, the attempts and how to
allow more time; connection errors and retryable statuses are sent again as the SDK would."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import openai
import pytest
import respx
from llm_wire import BASE_URL, COMPLETIONS, chunk, completion

from agents.llm import ChatMessage, LLMTimeoutError
from agents.llm.openai.client import OpenAI

HI = [ChatMessage.user("hi")]


def slow_server() -> httpx.ReadTimeout:
    """What the SDK's HTTP client raises when no reply came within the read timeout (respx
    serves requests without a socket, so the timeout itself never runs under it)."""
    return httpx.ReadTimeout("no reply in time")


async def test_a_timed_out_request_is_sent_once_and_the_error_says_how_to_wait_longer(
    api: respx.MockRouter,
) -> None:
    route = api.post("/chat/completions").mock(side_effect=slow_server())
    llm = OpenAI("qwen2.5", api_key="k", base_url=BASE_URL, timeout=90, max_retries=3)

    with pytest.raises(LLMTimeoutError) as caught:
        await llm.achat(HI)

    assert route.call_count == 1  # the SDK alone would send it 4 times in full
    error = caught.value
    assert isinstance(error, openai.APITimeoutError)  # existing `except` clauses still match
    assert (error.timeout, error.attempts, error.base_url) == (90, 1, f"{BASE_URL}/")
    message = str(error)
    assert f"the server at {BASE_URL}/ did not answer within 90 s" in message
    assert "1 attempt" in message
    for way in ("OPENAI_TIMEOUT", "timeout=", "--llm-timeout"):
        assert way in message
    assert "OPENAI_MAX_CONCURRENCY" in message  # no limit was set: say where requests wait


async def test_the_error_names_the_timeout_the_request_was_sent_with(
    api: respx.MockRouter,
) -> None:
    api.post("/chat/completions").mock(side_effect=slow_server())
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, timeout=90)

    # The SDK takes a timeout per request too: that one is what ran out.
    with pytest.raises(LLMTimeoutError, match=r"did not answer within 7\.5 s") as caught:
        await llm.achat(HI, timeout=7.5)

    assert caught.value.timeout == 7.5


async def test_retry_timeouts_sends_again_up_to_max_retries_and_says_so_each_time(
    api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    route = api.post("/chat/completions").mock(side_effect=slow_server())
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, timeout=5, max_retries=2, retry_timeouts=True)

    with (
        caplog.at_level(logging.WARNING, logger="agents.llm.openai.retries"),
        pytest.raises(LLMTimeoutError, match=r"within 5 s on each of 3 attempts") as caught,
    ):
        await llm.achat(HI)

    assert route.call_count == 3
    assert caught.value.attempts == 3
    assert [record.getMessage() for record in caplog.records] == [
        f"POST {COMPLETIONS}: no reply within 5 s; sending it again (retry {n} of 2)"
        for n in (1, 2)
    ]


async def test_a_timeout_sent_again_can_succeed(api: respx.MockRouter) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[slow_server(), httpx.Response(200, json=completion("late but here"))]
    )
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, max_retries=1, retry_timeouts=True)

    reply = await llm.achat(HI)

    assert reply.message.text == "late but here"
    assert route.call_count == 2


async def test_a_connection_error_is_still_sent_again(
    api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=completion("up"))]
    )
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, max_retries=1)

    with caplog.at_level(logging.WARNING, logger="agents.llm.openai.retries"):
        reply = await llm.achat(HI)

    assert reply.message.text == "up"
    assert route.call_count == 2
    (warning,) = caplog.records
    said = warning.getMessage()
    assert said.startswith(f"POST {COMPLETIONS}: Connection error; sending it again in ")


def timeout_before_sending(stack: str, kind: str) -> Exception:
    """A timeout raised before the request went out (no connection, or no free one in the
    pool), from httpx or from httpx2 (openai 3.x's own stack)."""
    module = pytest.importorskip(stack)
    error: Exception = getattr(module, kind)(f"{kind} before the request went out")
    return error


@pytest.mark.parametrize("stack", ["httpx", "httpx2"])
@pytest.mark.parametrize("kind", ["ConnectTimeout", "PoolTimeout"])
async def test_a_timeout_before_the_request_went_out_is_sent_again(
    api: respx.MockRouter, caplog: pytest.LogCaptureFixture, stack: str, kind: str
) -> None:
    # The server never saw it: no reply is being written that a second copy would wait for.
    never_sent = timeout_before_sending(stack, kind)
    route = api.post("/chat/completions").mock(
        side_effect=[never_sent, httpx.Response(200, json=completion("up"))]
    )
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, max_retries=1)

    with caplog.at_level(logging.WARNING, logger="agents.llm.openai.retries"):
        reply = await llm.achat(HI)

    assert reply.message.text == "up"
    assert route.call_count == 2
    (warning,) = caplog.records
    assert "not sent: no connection in time; sending it again in " in warning.getMessage()


@pytest.mark.parametrize(
    ("status", "headers", "sent"),
    [
        (503, {"retry-after-ms": "1"}, 3),
        (409, {"retry-after": "0.001"}, 3),
        (400, {"retry-after-ms": "1"}, 1),  # a bad request stays bad
        (500, {"retry-after-ms": "1", "x-should-retry": "false"}, 1),  # the server says no
        (404, {"retry-after-ms": "1", "x-should-retry": "true"}, 3),  # ... or yes
        (429, {"retry-after": "600"}, 1),  # longer than two minutes: not worth waiting
    ],
)
async def test_statuses_are_sent_again_by_the_sdks_rules(
    api: respx.MockRouter, status: int, headers: dict[str, str], sent: int
) -> None:
    error = {"error": {"message": "no", "type": "server_error", "code": None}}
    route = api.post("/chat/completions").respond(status, headers=headers, json=error)
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, max_retries=2)

    with pytest.raises(openai.APIStatusError) as caught:
        await llm.achat(HI)

    assert caught.value.status_code == status
    assert route.call_count == sent


@pytest.mark.parametrize("zone", ["GMT", "-0000"])  # -0000: a date in UTC, RFC 5322's way
async def test_a_retry_after_date_beyond_two_minutes_is_not_waited_for(
    api: respx.MockRouter, zone: str
) -> None:
    later = datetime.now(UTC) + timedelta(minutes=10)
    when = email.utils.format_datetime(later, usegmt=True).replace("GMT", zone)
    error = {"error": {"message": "busy", "type": "server_error", "code": None}}
    route = api.post("/chat/completions").respond(503, headers={"retry-after": when}, json=error)
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, max_retries=2)

    with pytest.raises(openai.APIStatusError) as caught:
        await llm.achat(HI)

    assert caught.value.status_code == 503
    assert route.call_count == 1


async def test_a_stream_that_stops_mid_reply_is_a_timeout_too(api: respx.MockRouter) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield f"data: {json.dumps(chunk({'role': 'assistant', 'content': 'Hel'}))}\n\n".encode()
        raise httpx.ReadTimeout("no chunk in time")

    headers = {"content-type": "text/event-stream"}
    route = api.post("/chat/completions").respond(200, headers=headers, stream=body())
    llm = OpenAI("m", api_key="k", base_url=BASE_URL, timeout=30, max_concurrency=1)
    texts: list[str] = []

    async def read() -> None:
        async for step in llm.astream_chat(HI):
            texts.append(step.message.text)

    with pytest.raises(LLMTimeoutError) as caught:
        await read()

    assert texts == ["Hel"]
    assert route.call_count == 1
    assert isinstance(caught.value, openai.APITimeoutError)
    message = str(caught.value)
    assert "stopped sending the streamed reply: no chunk within 30 s" in message
    assert "OPENAI_MAX_CONCURRENCY" not in message  # requests already wait here


async def test_a_real_server_that_never_answers_times_out_once() -> None:
    # A socket on 127.0.0.1 (no respx): the SDK's own read timeout runs, 50 ms.
    requests = 0
    release = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        if await reader.readuntil(b"\r\n\r\n"):
            requests += 1
        await release.wait()
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    llm = OpenAI(
        "m", api_key="k", base_url=f"http://127.0.0.1:{port}/v1", timeout=0.05, max_retries=3
    )
    try:
        with pytest.raises(LLMTimeoutError, match=r"did not answer within 0\.05 s \(1 attempt"):
            await llm.achat(HI)
    finally:
        release.set()
        server.close()
        await server.wait_closed()
        await llm.client.close()

    assert requests == 1
