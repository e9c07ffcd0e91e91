"""A 200 reply that is not a chat completion (a web page, broken JSON, an error object, a
body where a stream was asked for) is an `UnexpectedResponseError` that shows what came
back and points at the base URL, never an `AttributeError` or a bare `JSONDecodeError`."""

from __future__ import annotations

import httpx
import pytest
import respx
from llm_wire import BASE_URL, chunk, completion

from agents.llm import ChatMessage, LLMError, UnexpectedResponseError
from agents.llm.openai.client import OpenAI

NGINX = b"<html><head><title>Welcome to nginx!</title></head><body>It works</body></html>"

NOT_A_COMPLETION = [
    pytest.param(NGINX, "text/html", "not JSON", "Welcome to nginx!", id="html-page"),
    pytest.param(b'{"choices": [', "application/json", "not JSON", '{"choices": [', id="cut-json"),
    pytest.param(b"", "application/json", "an empty body", None, id="empty-body"),
    pytest.param(
        b'{"error": {"message": "model \'gpt-x\' not found"}}',
        "application/json",
        "an error object",
        "model 'gpt-x' not found",
        id="error-object",
    ),
    pytest.param(
        b'{"id": "x", "object": "list", "data": []}',
        "application/json",
        "no 'choices' list",
        '"object": "list"',
        id="no-choices",
    ),
    pytest.param(b"[1, 2]", "application/json", "no 'choices' list", "[1, 2]", id="json-array"),
    pytest.param(
        b'{"choices": [{"index": 0, "finish_reason": "stop"}]}',
        "application/json",
        "no 'message' object",
        '"finish_reason": "stop"',
        id="choice-without-message",
    ),
]


def page(body: bytes, content_type: str) -> httpx.Response:
    return httpx.Response(200, content=body, headers={"content-type": content_type})


def assert_explains(
    error: UnexpectedResponseError, content_type: str, reason: str, excerpt: str | None
) -> None:
    message = str(error)
    assert reason in message
    assert content_type in message
    if excerpt is not None:
        assert excerpt in message
    assert BASE_URL in message
    assert "OPENAI_BASE_URL" in message
    assert "/v1" in message
    assert error.content_type == content_type
    assert isinstance(error, LLMError)


@pytest.mark.parametrize(("body", "content_type", "reason", "excerpt"), NOT_A_COMPLETION)
async def test_a_reply_that_is_not_a_completion_is_named(
    api: respx.MockRouter,
    llm: OpenAI,
    body: bytes,
    content_type: str,
    reason: str,
    excerpt: str | None,
) -> None:
    route = api.post("/chat/completions").mock(return_value=page(body, content_type))

    with pytest.raises(UnexpectedResponseError) as caught:
        await llm.achat([ChatMessage.user("hi")])

    assert_explains(caught.value, content_type, reason, excerpt)
    assert route.call_count == 1


async def test_a_long_page_is_shortened(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(return_value=page(b"<p>" + b"x" * 10_000, "text/html"))

    with pytest.raises(UnexpectedResponseError) as caught:
        await llm.achat([ChatMessage.user("hi")])

    assert len(caught.value.excerpt) <= 201
    assert len(str(caught.value)) < 600


STREAM_ANSWERED_BY_A_PAGE = [
    pytest.param(NGINX, "text/html", "Welcome to nginx!", id="html-page"),
    pytest.param(
        httpx.Response(200, json=completion("Hello!")).content,
        "application/json",
        '"chat.completion"',
        id="whole-completion",
    ),
    pytest.param(
        b'{"error": {"message": "streaming is not supported"}}',
        "application/json",
        "streaming is not supported",
        id="error-object",
    ),
]


@pytest.mark.parametrize(("body", "content_type", "excerpt"), STREAM_ANSWERED_BY_A_PAGE)
async def test_a_stream_answered_by_a_page_is_named(
    api: respx.MockRouter, llm: OpenAI, body: bytes, content_type: str, excerpt: str
) -> None:
    api.post("/chat/completions").mock(return_value=page(body, content_type))

    with pytest.raises(UnexpectedResponseError) as caught:
        async for _ in llm.astream_chat([ChatMessage.user("hi")]):
            pass

    assert_explains(caught.value, content_type, "not the event stream asked for", excerpt)


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(page(b"data: [DONE]\n\n", "text/event-stream"), id="done-only"),
        pytest.param(httpx.Response(200, content=NGINX), id="page-without-content-type"),
    ],
)
async def test_a_stream_without_a_chunk_is_named(
    api: respx.MockRouter, llm: OpenAI, reply: httpx.Response
) -> None:
    api.post("/chat/completions").mock(return_value=reply)

    with pytest.raises(UnexpectedResponseError, match="no chat completion chunk"):
        async for _ in llm.astream_chat([ChatMessage.user("hi")]):
            pass


async def test_an_agent_whose_stream_is_answered_by_a_page_fails_with_it(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    from agents import FunctionAgent

    api.post("/chat/completions").mock(return_value=page(NGINX, "text/html"))

    with pytest.raises(UnexpectedResponseError, match="Welcome to nginx!"):
        await FunctionAgent(llm=llm).run(user_msg="hi")


async def test_an_event_that_is_not_json_is_named(api: respx.MockRouter, llm: OpenAI) -> None:
    import json

    first = json.dumps(chunk({"role": "assistant", "content": "Hi"}))
    body = f"data: {first}\n\ndata: <html>oops</html>\n\n".encode()
    api.post("/chat/completions").mock(return_value=page(body, "text/event-stream"))

    with pytest.raises(UnexpectedResponseError) as caught:
        async for _ in llm.astream_chat([ChatMessage.user("hi")]):
            pass

    assert_explains(caught.value, "text/event-stream", "not JSON", "<html>oops</html>")
