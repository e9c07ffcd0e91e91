"""Build the assistant's message from streamed chat completion chunks.

A streamed reply arrives as deltas: text fragments, refusal fragments, and tool-call
fragments keyed by `index` (the first fragment of a call carries its id and name, later ones
only more of its arguments; several calls interleave when the model calls tools in
parallel). `StreamAccumulator` merges them. Tool-call arguments are parsed once the choice
has finished (or the stream has ended): before that they are incomplete JSON.

Some OpenAI-compatible servers leave out what OpenAI always sends: a fragment without an
`index` continues the latest call unless it brings a new id (then it starts a call), and a
call that never got an id is given `call_<index>`, so its result can still quote one. A
name sent again whole in a later fragment is not appended to itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentflow.context.compact_models import non_default_fields
from agents.llm.openai.messages import arguments_text, finish_reason_from
from agents.llm.types import ChatMessage, FinishReason, ToolCallPart


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamAccumulator:
    """The message so far, built from the first choice of each chunk."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._refusal: list[str] | None = None
        self._calls: dict[int, _PartialCall] = {}
        self.finish_reason: FinishReason | None = None
        """The choice's finish reason, once a chunk has carried it."""

    def add(self, choice: Any) -> str:
        """Merge one chunk choice (`choices[0]`); returns the text it added."""
        # A server may send a choice with no delta (only its finish reason), or a null one.
        delta = getattr(choice, "delta", None)
        if delta is None:
            if choice.finish_reason is not None:
                self.finish_reason = finish_reason_from(choice.finish_reason)
            return ""
        text: str = delta.content or ""
        if text:
            self._text.append(text)
        if delta.refusal:
            if self._refusal is None:
                self._refusal = []
            self._refusal.append(delta.refusal)
        for fragment in delta.tool_calls or []:
            partial = self._calls.setdefault(self._index_of(fragment), _PartialCall())
            if fragment.id:
                partial.id = fragment.id
            function = fragment.function
            if function is not None:
                # Some servers split a name over fragments, others (MiniMax via NVIDIA
                # NIM, some GPT-5 replies) send the whole name again in every fragment.
                if function.name and function.name != partial.name:
                    partial.name += function.name
                arguments = arguments_text(function)
                if arguments:
                    partial.arguments.append(arguments)
        if choice.finish_reason is not None:
            self.finish_reason = finish_reason_from(choice.finish_reason)
        return text

    def _index_of(self, fragment: Any) -> int:
        index: int | None = getattr(fragment, "index", None)
        if index is not None:
            return index
        latest = max(self._calls, default=None)
        if latest is None:
            return 0
        fragment_id = getattr(fragment, "id", None)
        if fragment_id and fragment_id != self._calls[latest].id:
            return latest + 1
        return latest

    def message(self, final: bool = False) -> ChatMessage:
        """The assistant message so far; with `final`, tool-call arguments are parsed."""
        calls = []
        for index in sorted(self._calls):
            partial = self._calls[index]
            raw = "".join(partial.arguments)
            call_id = partial.id or f"call_{index}"
            if final or self.finish_reason is not None:
                calls.append(ToolCallPart.from_raw(call_id, partial.name, raw))
            else:
                calls.append(ToolCallPart(id=call_id, name=partial.name, raw_arguments=raw))
        text = "".join(self._text)
        return ChatMessage(
            **non_default_fields(
                ChatMessage,
                role="assistant",
                content=text if text or not calls else None,
                tool_calls=calls,
                refusal="".join(self._refusal) if self._refusal is not None else None,
            )
        )
