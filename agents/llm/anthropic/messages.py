"""Translate between our `ChatMessage`/`Usage` and the Messages API's wire format.

The API differs from chat completions in ways this module absorbs: system messages are the
request's `system` parameter, not messages; a tool's result is a `tool_result` block in a
user message, and the results of one assistant turn, with any user text after them (an
approval, a ReAct observation), go in one user message; an assistant's tool calls are
`tool_use` blocks whose `input` is an object; an image is a `url` or `base64` source.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agentflow.context.compact_models import non_default_fields
from agents.llm.types import ChatMessage, FinishReason, ImagePart, TextPart, ToolCallPart, Usage

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def to_anthropic_messages(
    messages: Sequence[ChatMessage],
) -> tuple[str | None, list[dict[str, Any]]]:
    """The request's `system` text (None without one) and its `messages`."""
    system = [message.text for message in messages if message.role in ("system", "developer")]
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role in ("system", "developer"):
            continue
        role, content = _wire_message(message)
        if wire and role == "user" and wire[-1]["role"] == "user":
            wire[-1]["content"] = _blocks(wire[-1]["content"]) + _blocks(content)
        else:
            wire.append({"role": role, "content": content})
    return ("\n\n".join(system) if system else None), wire


def _wire_message(message: ChatMessage) -> tuple[str, str | list[dict[str, Any]]]:
    if message.role == "tool":
        result = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id,
            "content": message.text,
        }
        return "user", [result]
    if message.role == "assistant":
        if not message.tool_calls:
            return "assistant", message.text
        blocks: list[dict[str, Any]] = (
            [{"type": "text", "text": message.text}] if message.text else []
        )
        blocks += [
            # `input` must be an object: a malformed call goes as {} (its error result says
            # what was wrong).
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            for call in message.tool_calls
        ]
        return "assistant", blocks
    if message.content is None or isinstance(message.content, str):
        return "user", message.text
    return "user", [_part(part) for part in message.content]


def _part(part: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if part.url.startswith("data:") and ";base64," in part.url:
        media_type, data = part.url.removeprefix("data:").split(";base64,", 1)
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    return {"type": "image", "source": {"type": "url", "url": part.url}}


def _blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def from_anthropic_message(
    blocks: Sequence[Any], stop_reason: str | None, output_tool: str | None
) -> tuple[ChatMessage, FinishReason | None]:
    """A reply's content blocks as our assistant message, and its finish reason. A call of
    the output tool (structured output) is the answer: its input, as JSON, is the text."""
    texts: list[str] = []
    calls: list[ToolCallPart] = []
    answer: str | None = None
    for block in blocks:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use" and block.name == output_tool:
            answer = json.dumps(block.input)
        elif block.type == "tool_use":
            # `input` is an object already: its JSON text parses back to it.
            calls.append(ToolCallPart.from_raw(block.id, block.name, json.dumps(block.input)))
    return reply_message("".join(texts), calls, answer, stop_reason)


def reply_message(
    text: str, calls: list[ToolCallPart], answer: str | None, stop_reason: str | None
) -> tuple[ChatMessage, FinishReason | None]:
    """The assistant message of a reply's parts (whole or streamed so far)."""
    finish = finish_reason_from(stop_reason)
    if answer is not None:
        text = answer  # the structured answer alone: words around it would not validate
        if finish == "tool_calls" and not calls:
            finish = "stop"
    refusal = (text or "the model declined to answer") if stop_reason == "refusal" else None
    message = ChatMessage(
        **non_default_fields(
            ChatMessage,
            role="assistant",
            content=text if text or not calls else None,
            tool_calls=calls,
            refusal=refusal,
        )
    )
    return message, finish


def finish_reason_from(stop_reason: str | None) -> FinishReason | None:
    """The API's stop reason as one of ours; None stays None, one this does not know is
    taken as "stop" (the reply ended)."""
    if stop_reason is None:
        return None
    return _STOP_REASONS.get(stop_reason, "stop")


def from_anthropic_usage(usage: Any, output_tokens: int | None = None) -> Usage:
    """The API's usage as ours: cache reads and writes are prompt tokens too."""
    cached = getattr(usage, "cache_read_input_tokens", None) or 0
    written = getattr(usage, "cache_creation_input_tokens", None) or 0
    prompt = (usage.input_tokens or 0) + cached + written
    completion = output_tokens if output_tokens is not None else usage.output_tokens or 0
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=cached,
        total_tokens=prompt + completion,
    )
