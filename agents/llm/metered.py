"""`MeteredLLM`: any `LLM` whose calls are checked against and added to the run's ledger.

```python
ctx = Context(workflow)
await ctx.store.set("usage_ledger", UsageLedger(prices={"gpt-4o-mini": Price(input=0.15,
                                                output=0.6)}, budget_usd=0.50))

@step
async def answer(self, ctx: Context, ev: StartEvent) -> StopEvent:
    llm = MeteredLLM(OpenAI("gpt-4o-mini"), ctx, step="answer")
    reply = await llm.achat(messages)
```

When the ledger has a budget, before each call the prompt is counted (the client's
`count_prompt_tokens`) and checked against it (`BudgetExceededError`, and the call is not
made); after it, the reply's usage (or, when the server reported none, the client's estimate
of prompt and reply) is added under the model and the step. Without a budget the prompt is
counted only for that estimate. The ledger lives in the context's state under `key`, so it
is saved with
`ctx.to_dict()`.

Limits: the budget check sees the calls already booked, so calls that run at the same time
in parallel steps can each pass it and together go over. A stream is booked after its last
item, or, when the caller leaves early, when the generator is closed (`aclose()`, or the
event loop finalising it), with an estimate of what arrived.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from pydantic import BaseModel

from agentflow import Context
from agents.llm.ledger import UsageLedger
from agents.llm.protocol import LLM, LLMMetadata, OutputT, ToolChoice
from agents.llm.spans import provider_of
from agents.llm.structured import predict_structured
from agents.llm.types import ChatMessage, ChatResponse, Usage

LEDGER_KEY = "usage_ledger"
"""Where in the context's state the ledger is kept, unless told otherwise."""


class MeteredLLM:
    """Wraps an `LLM`; every call goes through the ledger in `ctx`."""

    def __init__(
        self, llm: LLM, ctx: Context[Any], step: str | None = None, key: str = LEDGER_KEY
    ) -> None:
        """`step` names the caller in the ledger; None takes the running step's name."""
        self.llm = llm
        """The wrapped client."""
        self.ctx = ctx
        """The context whose state holds the ledger."""
        self.step = step
        """The name calls are booked under; None for the running step's."""
        self.key = key
        """The state key of the ledger."""

    @property
    def metadata(self) -> LLMMetadata:
        """The wrapped client's metadata."""
        return self.llm.metadata

    @property
    def provider_name(self) -> str:
        """The wrapped client's provider, as its spans name it (`provider_of`)."""
        return provider_of(self.llm)

    async def achat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> ChatResponse:
        """`llm.achat`, checked against the budget and booked."""
        prompt_tokens = await self._check(messages, tools, kwargs)
        response = await self.llm.achat(messages, tools, tool_choice, **kwargs)
        await self._book(response.usage, response.message, prompt_tokens, messages, tools)
        return response

    async def astream_chat(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[ChatResponse, None]:
        """`llm.astream_chat`, checked before the first item, booked after the last."""
        prompt_tokens = await self._check(messages, tools, kwargs)
        last: ChatResponse | None = None
        usage: Usage | None = None
        inner = self.llm.astream_chat(messages, tools, tool_choice, **kwargs)
        try:
            async for response in inner:
                last = response
                usage = response.usage or usage
                yield response
        finally:
            # A caller that stops reading closes the client's stream (its connection and its
            # span) now, not when the garbage collector gets to it; the protocol promises an
            # async iterator, which need not be closable.
            close = getattr(inner, "aclose", None)
            if close is not None:
                await close()
            # Also when the caller leaves early (the generator is closed): what was written
            # so far was paid for.
            if last is not None:
                await self._book(usage, last.message, prompt_tokens, messages, tools)

    async def astructured_predict(
        self,
        output_cls: type[OutputT],
        messages: Sequence[ChatMessage],
        *,
        once: str | None = None,
        **kwargs: Any,
    ) -> OutputT:
        """`llm.astructured_predict` with every attempt checked and booked: each attempt is
        one metered `achat` with the client's `structured_kwargs(output_cls)`.

        With `once` (a name unique within the calling step execution), each attempt's reply
        is `ctx.once(f"{once} attempt {n}", ...)`: in a run with a store it is journalled
        as it arrives, so a step execution re-run after a crash (or retried) gets back the
        attempts already made, failed ones included, and asks only for the next. A replayed
        attempt is not booked again: its usage was booked when it was made, and after a
        crash it is lost with the rest of that execution's unjournalled state. A step retried
        after every attempt failed the schema gets the same failures back; leave `once` out
        where a retry should ask anew.
        """
        request = {**self.llm.structured_kwargs(output_cls), **kwargs}
        attempts = itertools.count(1)

        async def chat(conversation: list[ChatMessage]) -> ChatResponse:
            if once is None:
                return await self.achat(conversation, **request)
            name = f"{once} attempt {next(attempts)}"
            ask = functools.partial(self.achat, **request)
            response: ChatResponse = await self.ctx.once(name, ask, conversation)
            return response

        return await predict_structured(
            chat, output_cls, messages, max_attempts=self.structured_max_attempts
        )

    @property
    def structured_max_attempts(self) -> int:
        """The wrapped client's."""
        return self.llm.structured_max_attempts

    def structured_kwargs(self, output_cls: type[BaseModel]) -> dict[str, Any]:
        """The wrapped client's."""
        return self.llm.structured_kwargs(output_cls)

    def count_prompt_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """The wrapped client's count."""
        return self.llm.count_prompt_tokens(messages, tools)

    def count_reply_tokens(self, message: ChatMessage) -> int:
        """The wrapped client's count."""
        return self.llm.count_reply_tokens(message)

    def _step_name(self) -> str:
        if self.step is not None:
            return self.step
        return self.ctx.current_step or "outside a step"

    async def _ledger(self) -> UsageLedger:
        ledger = await self.ctx.store.get(self.key, default=None)
        if ledger is None:
            ledger = UsageLedger()
            await self.ctx.store.set(self.key, ledger)
        if not isinstance(ledger, UsageLedger):
            raise TypeError(
                f"state key '{self.key}' holds a {type(ledger).__name__}, not a UsageLedger"
            )
        return ledger

    async def _check(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None,
        kwargs: dict[str, Any],
    ) -> int | None:
        """The prompt's tokens, checked against the ledger's budget; None when there is no
        budget: then the prompt is counted only for a reply that reports no usage (`_book`),
        as counting it and the tools' schemas cost a quarter of an agent's turn."""
        ledger = await self._ledger()
        if ledger.budget_tokens is None and ledger.budget_usd is None:
            return None
        model = self.metadata.model
        prompt_tokens = self.llm.count_prompt_tokens(messages, tools)
        # A reply limit given with this call counts, not only the client's own.
        max_output = (
            kwargs.get("max_completion_tokens")
            or kwargs.get("max_tokens")
            or self.metadata.max_output_tokens
            or 0
        )
        ledger.check(model, self._step_name(), prompt_tokens, int(max_output))
        return prompt_tokens

    async def _book(
        self,
        usage: Usage | None,
        reply: ChatMessage,
        prompt_tokens: int | None,
        messages: Sequence[ChatMessage],
        tools: Sequence[Any] | None,
    ) -> None:
        """Add a call to the ledger: its `usage`, else (the server reported none) the
        client's count of the prompt and of the `reply`."""
        if usage is None:  # the server reported none: the client's estimate
            if prompt_tokens is None:  # not counted before the call (no budget)
                prompt_tokens = self.llm.count_prompt_tokens(messages, tools)
            completion = self.llm.count_reply_tokens(reply)
            usage = Usage(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion,
                total_tokens=prompt_tokens + completion,
            )
        ledger = await self._ledger()
        # Recorded without an await in between: concurrent steps share the object.
        ledger.record(self.metadata.model, self._step_name(), usage)
        await self.ctx.store.set(self.key, ledger)
