"""Real OpenAI chat completions wire shapes for respx-mocked tests: JSON bodies and SSE."""

from __future__ import annotations

import json
from typing import Any

import httpx

BASE_URL = "https://llm.test/v1"
COMPLETIONS = f"{BASE_URL}/chat/completions"


def usage(prompt: int = 12, completion: int = 5, cached: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def completion(
    content: str | None = "Hello!",
    finish_reason: str = "stop",
    tool_calls: list[dict[str, Any]] | None = None,
    refusal: str | None = None,
    model: str = "gpt-4o-mini",
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
        ],
        "usage": usage(),
    }


def tool_call(id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}


def chunk(
    delta: dict[str, Any] | None = None,
    finish_reason: str | None = None,
    usage_: dict[str, Any] | None = None,
    no_choices: bool = False,
) -> dict[str, Any]:
    choices = (
        []
        if no_choices
        else [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish_reason}]
    )
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": choices,
        "usage": usage_,
    }


def sse(chunks: list[dict[str, Any]]) -> httpx.Response:
    body = "".join(f"data: {json.dumps(item)}\n\n" for item in chunks) + "data: [DONE]\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


def sent_json(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def text_reply(*pieces: str, prompt: int = 10, completion: int = 4) -> httpx.Response:
    return sse(
        [chunk({"role": "assistant", "content": ""})]
        + [chunk({"content": piece}) for piece in pieces]
        + [
            chunk({}, finish_reason="stop"),
            chunk(no_choices=True, usage_=usage(prompt=prompt, completion=completion)),
        ]
    )


def refusal_reply(*pieces: str) -> httpx.Response:
    """A refusal streamed in fragments (`delta.refusal`), no content."""
    return sse(
        [chunk({"role": "assistant", "content": None, "refusal": ""})]
        + [chunk({"refusal": piece}) for piece in pieces]
        + [chunk({}, finish_reason="stop"), chunk(no_choices=True, usage_=usage())]
    )


def calls_reply(*calls: tuple[str, str, str], prompt: int = 10) -> httpx.Response:
    """Tool calls streamed in fragments: the name first, then the arguments in two pieces,
    the calls' fragments interleaved."""
    chunks: list[dict[str, Any]] = []
    for index, (id, name, _) in enumerate(calls):
        fragment = {"index": index, "id": id, "type": "function"}
        fragment["function"] = {"name": name, "arguments": ""}
        chunks.append(chunk({"tool_calls": [fragment]}))
    for half in (0, 1):
        for index, (_, _, arguments) in enumerate(calls):
            cut = len(arguments) // 2
            piece = arguments[:cut] if half == 0 else arguments[cut:]
            chunks.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            )
    chunks.append(chunk({}, finish_reason="tool_calls"))
    chunks.append(chunk(no_choices=True, usage_=usage(prompt=prompt, completion=6)))
    return sse(chunks)
