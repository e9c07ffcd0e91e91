"""Build the assistant's message from a streamed reply's events.

A streamed reply is `message_start` (the prompt's usage), then one content block after
another, each `content_block_start` (a text block, or a tool_use block with its id and
name), `content_block_delta`s (`text_delta`, or `input_json_delta` with a piece of the
call's JSON input) and `content_block_stop`; then `message_delta` (the stop reason and the
reply's token count) and `message_stop`. Several tool calls in one reply are several
blocks. A call's input is parsed once its block has stopped: before that it is incomplete
JSON. The output tool's input (structured output) is the answer's text, streamed as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.llm.anthropic.messages import from_anthropic_usage, reply_message
from agents.llm.types import ChatMessage, FinishReason, ToolCallPart, Usage


@dataclass(slots=True)
class _Call:
    id: str
    name: str
    json: list[str] = field(default_factory=list)
    done: bool = False


class StreamAccumulator:
    """The message so far; `add` takes each event and returns the text it added."""

    def __init__(self, output_tool: str | None) -> None:
        self._output_tool = output_tool
        self._text: list[str] = []
        self._calls: dict[int, _Call] = {}
        self._answer: list[str] | None = None
        self._answer_index: int | None = None
        self._prompt: Any = None
        self.stop_reason: str | None = None
        """The API's stop reason, once `message_delta` has carried it."""
        self.usage: Usage | None = None
        """The reply's usage, once `message_delta` has carried its token count."""

    def add(self, event: Any) -> str:
        """Merge one event; returns the text it added (the answer's JSON counts as text)."""
        kind = event.type
        if kind == "message_start":
            self._prompt = event.message.usage
        elif kind == "content_block_start":
            block = event.content_block
            if block.type == "tool_use" and block.name == self._output_tool:
                self._answer, self._answer_index = [], event.index
            elif block.type == "tool_use":
                self._calls[event.index] = _Call(block.id, block.name)
        elif kind == "content_block_delta":
            return self._delta(event.index, event.delta)
        elif kind == "content_block_stop" and event.index in self._calls:
            self._calls[event.index].done = True
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            if self._prompt is not None:
                self.usage = from_anthropic_usage(self._prompt, event.usage.output_tokens)
        return ""

    def _delta(self, index: int, delta: Any) -> str:
        if delta.type == "text_delta":
            self._text.append(delta.text)
            return str(delta.text)
        if delta.type != "input_json_delta":
            return ""  # thinking and its signature: not part of the reply's text
        if index == self._answer_index and self._answer is not None:
            self._answer.append(delta.partial_json)
            return str(delta.partial_json)
        if index in self._calls:
            self._calls[index].json.append(delta.partial_json)
        return ""

    def message(self, final: bool = False) -> tuple[ChatMessage, FinishReason | None]:
        """The assistant message so far and the finish reason; a call's arguments are
        parsed once its block stopped (with `final`, whatever arrived)."""
        calls = []
        for call in self._calls.values():
            raw = "".join(call.json)
            if call.done or final:
                calls.append(ToolCallPart.from_raw(call.id, call.name, raw))
            else:
                calls.append(ToolCallPart(id=call.id, name=call.name, raw_arguments=raw))
        answer = "".join(self._answer) if self._answer is not None else None
        return reply_message("".join(self._text), calls, answer, self.stop_reason)
