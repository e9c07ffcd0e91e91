"""What a `ScriptedLLM` reply may be, and the assistant message each form stands for.

A script holds, and a reply function returns, one `Reply` per request: text, a tool call
(`tool_call(...)`), a list of text and calls (one message: the text joined, the calls made in
parallel), a pydantic model instance or a dict (its JSON text, a structured answer), a
`ChatMessage` (a refusal, say), a `ChatResponse` (sent as it is), or an exception instance
(raised by the call, as a server error would be).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import pydantic_core
from pydantic import BaseModel

from agents.llm.errors import ScriptedReplyError
from agents.llm.types import ChatMessage, ChatResponse, ToolCallPart

Reply: TypeAlias = (
    str
    | ToolCallPart
    | ChatMessage
    | ChatResponse
    | BaseModel
    | Mapping[str, Any]
    | Sequence[str | ToolCallPart]
    | BaseException
)
"""What a script holds, or a reply function returns, for one request."""


def tool_call(
    name: str, arguments: Mapping[str, Any] | str | None = None, *, id: str = ""
) -> ToolCallPart:
    """A call to tool `name`, as a reply (or part of one). `arguments` is a dict, or the
    JSON text as the model writes it (malformed text makes a malformed call, to test that
    path). Without an `id`, the model numbers the call when it sends it."""
    if isinstance(arguments, str):
        return ToolCallPart.from_raw(id, name, arguments)
    return ToolCallPart.from_raw(id, name, _json(dict(arguments or {})))


def reply_message(reply: Reply, index: int) -> ChatMessage:
    """The assistant message `reply` (not a ChatResponse or an exception) stands for;
    `index` is its request's, for the error naming a reply of another type."""
    if isinstance(reply, str):
        return ChatMessage.assistant(reply)
    if isinstance(reply, ToolCallPart):
        return ChatMessage.assistant(None, [reply])
    if isinstance(reply, ChatMessage):
        if reply.role != "assistant":
            raise ScriptedReplyError(
                f"reply {index + 1} is a {reply.role!r} message; a model replies with an "
                "'assistant' message"
            )
        return reply
    if isinstance(reply, BaseModel):
        # By alias: the schema the model was sent names the fields by their aliases.
        return ChatMessage.assistant(reply.model_dump_json(by_alias=True))
    if isinstance(reply, Mapping):
        return ChatMessage.assistant(_json(dict(reply)))
    if isinstance(reply, Sequence):
        texts = [part for part in reply if isinstance(part, str)]
        calls = [part for part in reply if isinstance(part, ToolCallPart)]
        others = [part for part in reply if not isinstance(part, str | ToolCallPart)]
        if not others:
            return ChatMessage.assistant("".join(texts) if texts or not calls else None, calls)
        what = f"holds a {type(others[0]).__name__}"
    else:
        what = f"is a {type(reply).__name__}"
    raise ScriptedReplyError(
        f"reply {index + 1} {what}; a reply is text, a ToolCallPart, a list of text and "
        "ToolCallParts, a pydantic model or dict (its JSON), a ChatMessage, a ChatResponse, or "
        "an exception to raise"
    )


def _json(value: dict[str, Any]) -> str:
    # json.dumps spaces its output as models write it (the stream splits it at the spaces);
    # values only pydantic can write (dates, models) are written as pydantic would.
    return json.dumps(value, default=pydantic_core.to_jsonable_python)
