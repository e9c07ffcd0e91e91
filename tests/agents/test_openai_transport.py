"""A stream that fails part-way raises the same errors under openai 2.x (whose stream lets
httpx's errors out as they are) and 3.x (which raises its own): a stalled stream our
`LLMTimeoutError`, a cut one the SDK's `openai.APIConnectionError`. The servers here are
real sockets on 127.0.0.1 (no respx), so the HTTP client the SDK sends through raises its
own errors, whichever it is."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import openai
import pytest
from llm_wire import chunk

from agents.llm import ChatMessage, LLMTimeoutError
from agents.llm.openai.client import OpenAI
from agents.llm.openai.transport import raised_as_sdk_errors

HI = [ChatMessage.user("hi")]
_FIRST_EVENT = f"data: {json.dumps(chunk({'role': 'assistant', 'content': 'Hel'}))}\n\n".encode()


@asynccontextmanager
async def one_chunk_then(end: Literal["stall", "cut"]) -> AsyncIterator[tuple[OpenAI, list[int]]]:
    """A client of a server that answers each request with a chunked event stream of one
    event, then sends nothing more (`stall`) or closes the connection mid-body (`cut`); and
    the list it counts requests in."""
    requests: list[int] = []
    release = asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        requests.append(1)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
            + b"%x\r\n%s\r\n"
            % (len(_FIRST_EVENT), _FIRST_EVENT)
        )
        await writer.drain()
        if end == "stall":
            await release.wait()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    llm = OpenAI("m", api_key="k", base_url=f"http://127.0.0.1:{port}/v1", timeout=1.0)
    try:
        yield llm, requests
    finally:
        release.set()
        server.close()
        await server.wait_closed()
        await llm.client.close()


async def read_texts(llm: OpenAI, texts: list[str]) -> None:
    async for step in llm.astream_chat(HI):
        texts.append(step.message.text)


async def test_a_stream_that_stalls_mid_reply_raises_our_timeout_error() -> None:
    texts: list[str] = []
    async with one_chunk_then("stall") as (llm, requests):
        with pytest.raises(LLMTimeoutError) as caught:
            await read_texts(llm, texts)

    assert texts == ["Hel"]
    assert requests == [1]  # a stream is never sent again
    assert isinstance(caught.value, openai.APITimeoutError)
    assert caught.value.streaming
    assert "stopped sending the streamed reply: no chunk within 1 s" in str(caught.value)


async def test_a_stream_cut_mid_reply_raises_the_sdks_connection_error() -> None:
    texts: list[str] = []
    async with one_chunk_then("cut") as (llm, requests):
        with pytest.raises(openai.APIConnectionError) as caught:
            await read_texts(llm, texts)

    assert texts == ["Hel"]
    assert requests == [1]
    assert not isinstance(caught.value, openai.APITimeoutError)


def test_the_client_loads_without_httpx_under_openai_3() -> None:
    # openai 3.x sends through httpx2 and does not install httpx, which comes with our `web`
    # extra only: a base install has no httpx.
    if int(openai.__version__.split(".")[0]) < 3:
        pytest.skip("openai 2.x sends through httpx: it cannot load without it")
    script = textwrap.dedent(
        """
        import sys
        sys.modules["httpx"] = None  # as if not installed: importing it raises ImportError
        from agents.llm.openai.client import OpenAI
        OpenAI("m", api_key="k")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module_name", ["httpx", "httpx2"])
def test_the_http_clients_errors_come_out_as_the_sdks(module_name: str) -> None:
    # The stream tests above reach this conversion only under openai 2.x; this holds it
    # under whichever SDK is installed, for each HTTP client that imports.
    http = pytest.importorskip(module_name)
    request = http.Request("POST", "http://127.0.0.1/v1/chat/completions")

    with pytest.raises(openai.APITimeoutError) as timed_out, raised_as_sdk_errors(request):
        raise http.ReadTimeout("no chunk in time", request=request)
    with pytest.raises(openai.APIConnectionError) as cut, raised_as_sdk_errors(request):
        raise http.RemoteProtocolError("peer closed connection", request=request)
    with pytest.raises(openai.RateLimitError), raised_as_sdk_errors(request):  # SDK's own
        raise openai.RateLimitError(
            "slow down", response=http.Response(429, request=request), body=None
        )

    assert isinstance(timed_out.value.__cause__, http.ReadTimeout)
    assert not isinstance(cut.value, openai.APITimeoutError)
    assert isinstance(cut.value.__cause__, http.RemoteProtocolError)
