"""Translate between our `ChatMessage`/`Usage` and the OpenAI chat completions wire format."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agentflow.context.compact_models import non_default_fields
from agents.llm.types import ChatMessage, FinishReason, ImagePart, TextPart, ToolCallPart, Usage


def to_openai_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """`messages` as the `messages` parameter of `chat.completions.create`."""
    return [to_openai_message(message) for message in messages]


def to_openai_message(message: ChatMessage) -> dict[str, Any]:
    """One message as an OpenAI message dict."""
    wire: dict[str, Any] = {"role": message.role, "content": _content(message)}
    if message.name is not None and message.role != "tool":
        wire["name"] = message.name
    if message.role == "tool":
        wire["tool_call_id"] = message.tool_call_id
    if message.tool_calls:
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {
                    "name": call.name,
                    # Sent back as written, so a malformed call is shown to the model as is.
                    "arguments": call.raw_arguments or json.dumps(call.arguments),
                },
            }
            for call in message.tool_calls
        ]
    if message.refusal is not None:
        wire["refusal"] = message.refusal
    return wire


def _content(message: ChatMessage) -> str | list[dict[str, Any]] | None:
    if message.content is None or isinstance(message.content, str):
        return message.content
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            image: dict[str, Any] = {"url": part.url}
            if part.detail is not None:
                image["detail"] = part.detail
            parts.append({"type": "image_url", "image_url": image})
    return parts


def from_openai_message(message: Any) -> ChatMessage:
    """An SDK `ChatCompletionMessage` as our assistant `ChatMessage`."""
    calls = [
        # Some OpenAI-compatible servers send calls without an id: give them one to quote.
        ToolCallPart.from_raw(
            call.id or f"call_{index}", call.function.name or "", arguments_text(call.function)
        )
        for index, call in enumerate(message.tool_calls or [])
        if getattr(call, "function", None) is not None
    ]
    return ChatMessage(
        **non_default_fields(
            ChatMessage,
            role="assistant",
            content=message.content,
            tool_calls=calls,
            refusal=message.refusal,
        )
    )


def from_openai_usage(usage: Any) -> Usage | None:
    """An SDK `CompletionUsage` as our `Usage`; None stays None."""
    if usage is None:
        return None
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    prompt = usage.prompt_tokens or 0
    completion = usage.completion_tokens or 0
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=getattr(prompt_details, "cached_tokens", None) or 0,
        reasoning_tokens=getattr(completion_details, "reasoning_tokens", None) or 0,
        # Some OpenAI-compatible servers leave the total out.
        total_tokens=getattr(usage, "total_tokens", None) or prompt + completion,
    )


_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "function_call",
    # What some OpenAI-compatible servers send instead.
    "eos": "stop",
    "eos_token": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_length": "length",
    "tool_use": "tool_calls",
}


def finish_reason_from(value: str | None) -> FinishReason | None:
    """A server's finish reason as one of OpenAI's; None stays None and a word this does
    not know is taken as "stop" (the reply ended), rather than failing the reply."""
    if value is None:
        return None
    return _FINISH_REASONS.get(str(value), "stop")


def arguments_text(function: Any) -> str:
    """A tool call's `function.arguments` as JSON text. OpenAI sends a string; some
    compatible servers send the object itself."""
    arguments = getattr(function, "arguments", None)
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    try:
        return json.dumps(arguments)
    except (TypeError, ValueError):
        return str(arguments)
