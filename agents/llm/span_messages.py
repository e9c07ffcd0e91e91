"""Messages as the GenAI conventions record them on a `chat` span (JSON text).

A message is `{"role": ..., "parts": [...]}`; a part is `{"type": "text", "content": ...}`,
`{"type": "tool_call", "id", "name", "arguments"}` (an assistant's call),
`{"type": "tool_call_response", "id", "response"}` (a tool's result) or
`{"type": "uri", "modality": "image", "uri": ...}` (an image). System and developer
messages are the system instructions (a list of parts), the rest the input messages; the
reply is one output message with its `finish_reason`, in the conventions' words
(`tool_call`, not OpenAI's `tool_calls`). Only made when contents are recorded
(`agents.llm.spans`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agents.llm.types import ChatMessage, ImagePart

_INSTRUCTION_ROLES = ("system", "developer")
_FINISH_REASONS = {"tool_calls": "tool_call", "function_call": "tool_call"}


def system_instructions(messages: Sequence[ChatMessage]) -> str | None:
    """The parts of the system and developer messages, or None when there are none."""
    parts = [
        part
        for message in messages
        if message.role in _INSTRUCTION_ROLES
        for part in _content_parts(message)
    ]
    return _json(parts) if parts else None


def input_messages(messages: Sequence[ChatMessage]) -> str:
    """The conversation sent, system and developer messages left out."""
    return _json(
        [_message(message) for message in messages if message.role not in _INSTRUCTION_ROLES]
    )


def output_messages(message: ChatMessage, finish_reason: str | None) -> str:
    """The reply, as the one output message."""
    reason = _FINISH_REASONS.get(finish_reason or "", finish_reason or "stop")
    return _json([{**_message(message), "finish_reason": reason}])


def _message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "tool":
        response = {"type": "tool_call_response", "id": message.tool_call_id}
        return {"role": "tool", "parts": [{**response, "response": message.text}]}
    parts = _content_parts(message)
    parts.extend(
        {
            "type": "tool_call",
            "id": call.id,
            "name": call.name,
            "arguments": call.raw_arguments if call.malformed else call.arguments,
        }
        for call in message.tool_calls
    )
    return {"role": message.role, "parts": parts}


def _content_parts(message: ChatMessage) -> list[dict[str, Any]]:
    if message.content is None:
        return []
    if isinstance(message.content, str):
        return [{"type": "text", "content": message.content}] if message.content else []
    return [
        {"type": "uri", "modality": "image", "uri": part.url}
        if isinstance(part, ImagePart)
        else {"type": "text", "content": part.text}
        for part in message.content
    ]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
