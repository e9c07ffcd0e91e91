"""Real Anthropic Messages API wire shapes for respx-mocked tests: JSON bodies and the SSE
events of a streamed reply (message_start, content_block_start/delta/stop, message_delta,
message_stop, with a ping among them as the API sends)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE_URL = "https://anthropic.test"
MESSAGES = "/v1/messages"
MODEL = "claude-sonnet-4-5"

Block = dict[str, Any]


def text(value: str) -> Block:
    return {"type": "text", "text": value}


def tool_use(id: str, name: str, input: dict[str, Any]) -> Block:
    return {"type": "tool_use", "id": id, "name": name, "input": input}


def usage(input_tokens: int = 12, output_tokens: int = 5, cache_read: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cache_read,
    }


def message(
    *blocks: Block, stop_reason: str | None = None, usage_: dict[str, Any] | None = None
) -> dict[str, Any]:
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": list(blocks),
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage_ or usage(),
    }


def whole(*blocks: Block, stop_reason: str | None = None, **usage_: int) -> httpx.Response:
    return httpx.Response(
        200, json=message(*blocks, stop_reason=stop_reason, usage_=usage(**usage_))
    )


def sse(events: list[dict[str, Any]]) -> httpx.Response:
    body = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


def _pieces(value: str) -> list[str]:
    """`value` cut where a server's tokens might end: after each space, and in two for JSON."""
    if value.startswith("{"):
        cut = len(value) // 2
        return ["", value[:cut], value[cut:]]  # the API opens with an empty partial_json
    words = value.split(" ")
    return [word + " " for word in words[:-1]] + [words[-1]]


def stream_events(
    *blocks: Block, stop_reason: str | None = None, input_tokens: int = 12, output_tokens: int = 5
) -> list[dict[str, Any]]:
    start = message(stop_reason="end_turn", usage_=usage(input_tokens, 1))
    start.update(content=[], stop_reason=None)
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            events.append(
                {"type": "content_block_start", "index": index, "content_block": text("")}
            )
            deltas = [{"type": "text_delta", "text": piece} for piece in _pieces(block["text"])]
        else:
            opened = {**block, "input": {}}
            events.append({"type": "content_block_start", "index": index, "content_block": opened})
            raw = json.dumps(block["input"])
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in _pieces(raw)]
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        }
    )
    events.append({"type": "message_stop"})
    return events


def streamed(*blocks: Block, stop_reason: str | None = None, **usage_: int) -> httpx.Response:
    return sse(stream_events(*blocks, stop_reason=stop_reason, **usage_))


def sent_json(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


@dataclass
class MessagesServer:
    """A respx side effect playing the Messages API: `answer` gets each request's JSON and
    returns the reply's blocks (a str is one text block), sent streamed when the request
    asked for a stream. Requests are kept in `requests`."""

    answer: Callable[[dict[str, Any]], list[Block] | str]
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = sent_json(request)
        self.requests.append(body)
        answer = self.answer(body)
        blocks = [text(answer)] if isinstance(answer, str) else answer
        return streamed(*blocks) if body.get("stream") else whole(*blocks)


def forced_tool(request: dict[str, Any]) -> dict[str, Any] | None:
    """The tool a request forces (structured output), with its input schema; else None."""
    choice = request.get("tool_choice") or {}
    if choice.get("type") != "tool":
        return None
    return next(tool for tool in request["tools"] if tool["name"] == choice["name"])
