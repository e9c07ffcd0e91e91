"""`ChatMemory`: a conversation trimmed to a token budget, whole turns at a time.

The leading system (or developer) messages are always kept; after them, the newest turns
that fit within `token_limit`. A turn starts at a user message and holds everything up to
the next one (assistant replies, tool calls and their results), so trimming never separates
a tool call from its result. A user message put as feedback (`put(..., feedback=True)`: an
agent's re-ask after an answer that failed its schema, a ReAct observation or format
reminder) answers the reply before it and stays in that reply's turn: a window never begins
at one and leaves out the question it is about. The memory is a pydantic model: it can sit
in a workflow's state and is saved and restored with the context.

Tokens are counted by the LLM the conversation is with (`LLM.count_prompt_tokens`), never by
one provider's tokenizer: the `llm` given to the constructor, or the one given to `get`
(an agent always gives the model it is about to call). A memory with neither, such as one
just restored from a saved context, estimates one token per 4 bytes of UTF-8 text
(`agents.llm.token_counts`). The client is not part of the saved (or pickled) memory, and a
copy of the memory shares it.

```python
memory = ChatMemory(token_limit=3_000, llm=llm)
memory.put(ChatMessage.user("hi"))
reply = await llm.achat(memory.get())
memory.put(reply.message)
```
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from agents.llm.protocol import LLM
from agents.llm.token_counts import estimate_reply, prompt_overhead
from agents.llm.types import ChatMessage

DEFAULT_MODEL = "gpt-4o"
"""The model name a memory made without an `llm` reports."""

_CONTEXT_SHARE = 0.75  # of an LLM's context window, when no token_limit is given
_SYSTEM_ROLES = ("system", "developer")


class ChatMemory(BaseModel):
    """A conversation whose `get()` fits a token budget."""

    token_limit: int
    """The most prompt tokens `get()` returns (with what the LLM counts for any prompt,
    such as OpenAI's reply priming)."""
    model: str = DEFAULT_MODEL
    """The name of the model the memory was made for (its `llm`'s), kept with the saved
    memory; the tokens are counted by the `llm` itself."""
    messages: list[ChatMessage] = Field(default_factory=list)
    """Every message put, oldest first; `get()` returns a window of them."""
    feedback: list[int] = Field(default_factory=list)
    """Positions in `messages` of the messages put as feedback, which start no turn. Kept
    by `put`, `put_messages`, `delete` and `reset`: change `messages` through them."""

    # Token counts of `messages`, by position, and the messages they were counted for (a
    # count is reused only for the very same message object); rebuilt after a restore.
    _counts: list[int] = PrivateAttr(default_factory=list)
    _counted: list[ChatMessage] = PrivateAttr(default_factory=list)
    # The client `get` counts with when given none, and the one the counts are by (None:
    # the estimate); neither is saved, and copies share them (`__deepcopy__`).
    _llm: LLM | None = PrivateAttr(default=None)
    _counted_by: LLM | None = PrivateAttr(default=None)

    def __init__(
        self, *, token_limit: int | None = None, llm: LLM | None = None, **fields: Any
    ) -> None:
        """`token_limit` defaults to three quarters of `llm`'s context window; `llm` also
        counts the tokens (`model` is its name). Without `llm`, `model` may be given as
        before, and tokens are estimated until `get` is given an llm."""
        if llm is not None:
            fields.setdefault("model", llm.metadata.model)
            if token_limit is None:
                token_limit = int(llm.metadata.context_window * _CONTEXT_SHARE)
        if token_limit is None:
            raise ValueError("ChatMemory needs a token_limit, or an llm to take it from")
        if token_limit <= 0:
            raise ValueError(f"ChatMemory token_limit must be positive, got {token_limit}")
        super().__init__(token_limit=token_limit, **fields)
        self._llm = llm

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> ChatMemory:
        """A deep copy of the conversation that shares the LLM: a client (its connection
        pool, its locks) is not copied with the messages it counts."""
        memo = {} if memo is None else memo
        for llm in (self._llm, self._counted_by):
            if llm is not None:
                memo[id(llm)] = llm
        return super().__deepcopy__(memo)

    def __getstate__(self) -> dict[Any, Any]:
        """The pickled memory, without the LLM (a client, whose locks cannot be pickled) or
        the counts made by it: unpickled, it counts as a restored memory does."""
        state = super().__getstate__()
        unsaved: dict[str, Any] = {"_counts": [], "_counted": [], "_llm": None, "_counted_by": None}
        state["__pydantic_private__"] = unsaved
        return state

    def put(self, message: ChatMessage, *, feedback: bool = False) -> None:
        """Add a message at the end; `feedback`: it answers the reply before it (a re-ask,
        an observation) and belongs to that reply's turn."""
        if feedback:
            self.feedback.append(len(self.messages))
        self.messages.append(message)

    def put_messages(self, messages: Iterable[ChatMessage], *, feedback: bool = False) -> None:
        """Add several messages at the end, in order; `feedback` as for `put`."""
        for message in messages:
            self.put(message, feedback=feedback)

    def delete(self, start: int, stop: int) -> None:
        """Remove `messages[start:stop]` (say, an answer that failed its schema and the
        re-ask after it); the others keep whether they are feedback."""
        removed = max(0, min(stop, len(self.messages)) - start)
        del self.messages[start:stop]
        self.feedback = [
            position if position < start else position - removed
            for position in self.feedback
            if not start <= position < start + removed
        ]

    def reset(self) -> None:
        """Forget every message."""
        self.messages.clear()
        self.feedback.clear()
        self._counts.clear()
        self._counted.clear()

    def get_all(self) -> list[ChatMessage]:
        """Every message, untrimmed."""
        return list(self.messages)

    def get(self, reserve_tokens: int = 0, *, llm: LLM | None = None) -> list[ChatMessage]:
        """The system messages and the newest whole turns that fit in `token_limit` minus
        `reserve_tokens` (room for tool schemas or a prompt still to come), counted by `llm`,
        else by the memory's own llm, else estimated.

        The newest turn is returned even when it alone is over the budget: a prompt without
        the latest question is no use, and splitting the turn could cut a tool call from its
        result.
        """
        counter = llm if llm is not None else self._llm
        overhead = prompt_overhead(counter) if counter is not None else 0
        counts = self._token_counts(counter, overhead)
        system_end = 0
        while system_end < len(self.messages) and self.messages[system_end].role in _SYSTEM_ROLES:
            system_end += 1
        budget = self.token_limit - reserve_tokens - overhead - sum(counts[:system_end])
        start = len(self.messages)
        for turn_start in reversed(_turn_starts(self.messages, system_end, set(self.feedback))):
            cost = sum(counts[turn_start:start])
            if cost > budget and start != len(self.messages):
                break
            budget -= cost
            start = turn_start
        return self.messages[:system_end] + self.messages[start:]

    def _token_counts(self, llm: LLM | None, overhead: int) -> list[int]:
        """Each message's tokens, counted by `llm` (whose empty prompt costs `overhead`)."""
        counts, counted = self._counts, self._counted
        if llm is not self._counted_by:  # counted by another model: none of them holds
            counts.clear()
            counted.clear()
            self._counted_by = llm
        count = _message_counter(llm, overhead)
        # Keep the counts up to the first message that was replaced from outside.
        valid = 0
        for old, new in zip(counted, self.messages, strict=False):
            if old is not new:
                break
            valid += 1
        del counts[valid:], counted[valid:]
        for message in self.messages[valid:]:
            counts.append(count(message))
            counted.append(message)
        return counts


def _message_counter(llm: LLM | None, overhead: int) -> Callable[[ChatMessage], int]:
    """The tokens one message adds to a prompt, as `llm` counts them, else estimated.
    `overhead` is `prompt_overhead(llm)`, counted once by the caller rather than again for
    every message (`added_prompt_tokens` would)."""
    if llm is None:
        return estimate_reply
    return lambda message: llm.count_prompt_tokens([message]) - overhead


def _turn_starts(messages: list[ChatMessage], first: int, feedback: set[int]) -> list[int]:
    """Where each turn after the system messages begins: at `first`, then at each user
    message that is not feedback and does not come between a tool call and its result (a
    user message there, say an approval, stays in the turn of the call)."""
    starts = [first] if first < len(messages) else []
    pending: set[str] = set()
    for index in range(first, len(messages)):
        message = messages[index]
        if message.role == "user" and index > first and not pending and index not in feedback:
            starts.append(index)
        if message.role == "assistant" and not message.tool_calls:
            pending.clear()  # an answer ends the round, even one whose result never came
        pending.update(call.id for call in message.tool_calls)
        if message.role == "tool" and message.tool_call_id is not None:
            pending.discard(message.tool_call_id)
    return starts
