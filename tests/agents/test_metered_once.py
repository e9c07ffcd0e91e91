"""`MeteredLLM.astructured_predict(..., once=name)`: each attempt's reply is a `ctx.once`
result, so a re-run of the step execution (here a retry) gets the attempts back instead of
asking again, and they are booked once, when they were made."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from llama_index.core.llms import ChatMessage as LlamaChatMessage
from llama_index.core.llms.mock import MockFunctionCallingLLM
from llm_wire import completion
from pydantic import BaseModel

from agentflow import Context, Workflow, step
from agentflow.events import StartEvent, StopEvent
from agentflow.retry_policy import ConstantDelayRetryPolicy
from agents.llm import ChatMessage
from agents.llm.ledger import UsageLedger
from agents.llm.llama_index_llm import LlamaIndexLLM
from agents.llm.metered import MeteredLLM
from agents.llm.openai.client import OpenAI
from agents.llm.protocol import LLM


class Answer(BaseModel):
    value: int


class FailsOnceAfterAsking(Workflow[int]):
    """Asks for an `Answer`, then fails its first try: the retry re-runs the execution."""

    def __init__(self, llm: LLM, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.llm = llm
        self.tries = 0

    @step(retry_policy=ConstantDelayRetryPolicy(delay=0, maximum_attempts=2))
    async def ask(self, ctx: Context[Any], ev: StartEvent) -> StopEvent:
        answer = await MeteredLLM(self.llm, ctx).astructured_predict(
            Answer, [ChatMessage.user("3 + 4?")], once="answer"
        )
        self.tries += 1
        if self.tries == 1:
            raise RuntimeError("after the call")
        return StopEvent(result=answer.value)


async def test_a_retried_step_gets_its_attempts_back_without_asking_or_booking_again(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    replies = [
        httpx.Response(200, json=completion('{"value": "seven"}')),
        httpx.Response(200, json=completion('{"value": 7}')),
    ]
    route = api.post("/chat/completions").mock(side_effect=replies)
    workflow = FailsOnceAfterAsking(llm)

    handler = workflow.run()
    assert await handler == 7
    assert workflow.tries == 2
    assert route.call_count == 2  # the failed attempt and the re-ask, neither sent again
    ledger = await handler.ctx.store.get("usage_ledger")
    assert isinstance(ledger, UsageLedger)
    assert (ledger.total.calls, ledger.total.usage.total_tokens) == (2, 2 * 17)


async def test_a_client_without_structured_kwargs_has_its_whole_call_recorded() -> None:
    sent: list[int] = []

    def reply(messages: Any, **kwargs: Any) -> LlamaChatMessage:
        sent.append(len(messages))
        return LlamaChatMessage(role="assistant", content='{"value": 7}')

    workflow = FailsOnceAfterAsking(LlamaIndexLLM(MockFunctionCallingLLM(response_generator=reply)))

    assert await workflow.run() == 7
    assert workflow.tries == 2
    assert len(sent) == 1
