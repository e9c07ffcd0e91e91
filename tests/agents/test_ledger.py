"""UsageLedger and MeteredLLM: usage and cost per model and step in a real run, the budget
stopping a run before the call, and the ledger surviving context save and restore."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
import respx
from llm_wire import BASE_URL, chunk, completion, sse, usage

from agentflow import Context, Workflow, step
from agentflow.context.state_store import DictState
from agentflow.events import Event, StartEvent, StopEvent
from agents.llm import ChatMessage, Usage
from agents.llm.errors import BudgetExceededError
from agents.llm.ledger import Price, UsageLedger
from agents.llm.metered import LEDGER_KEY, MeteredLLM
from agents.llm.openai.client import OpenAI
from agents.llm.openai.tokens import count_prompt, count_text, use_bundled_tiktoken_cache
from agents.llm.scripted_llm import ScriptedLLM

PRICES = {"gpt-4o-mini": Price(input=0.15, output=0.60, cached_input=0.075)}
QUESTION = [ChatMessage.user("hi")]


@pytest.fixture(autouse=True)
def offline_encodings() -> None:
    use_bundled_tiktoken_cache()


def test_cost_per_model_and_step() -> None:
    ledger = UsageLedger(prices=PRICES)
    call = Usage(prompt_tokens=1_000_000, cached_tokens=400_000, completion_tokens=100_000)
    call.total_tokens = 1_100_000

    cost = ledger.record("gpt-4o-mini-2024-07-18", "plan", call)  # priced by its prefix
    ledger.record("local-llama", "plan", call)
    ledger.record("gpt-4o-mini", "write", call)

    assert cost == pytest.approx(0.6 * 0.15 + 0.4 * 0.075 + 0.1 * 0.60)
    assert ledger.total.calls == 3
    assert ledger.total.cost == pytest.approx(2 * 0.18)
    assert ledger.total.unpriced_calls == 1
    assert ledger.total.usage.total_tokens == 3_300_000
    assert ledger.by_step["plan"].calls == 2
    assert ledger.by_step["write"].cost == pytest.approx(0.18)
    assert ledger.by_model["local-llama"].cost == 0.0
    assert set(ledger.by_model) == {"gpt-4o-mini-2024-07-18", "local-llama", "gpt-4o-mini"}


class Planned(Event):
    pass


class TwoCalls(Workflow):
    llm: OpenAI

    @step
    async def plan(self, ctx: Context[DictState], ev: StartEvent) -> Planned:
        await MeteredLLM(self.llm, ctx).achat(QUESTION)  # booked under the running step
        return Planned()

    @step
    async def write(self, ctx: Context[DictState], ev: Planned) -> StopEvent:
        metered = MeteredLLM(self.llm, ctx, step="writing")
        text = "".join([step.delta async for step in metered.astream_chat(QUESTION)])
        return StopEvent(result=text)


def two_calls(llm: OpenAI) -> TwoCalls:
    workflow = TwoCalls(timeout=10)
    workflow.llm = llm
    return workflow


def mock_two_calls(api: respx.MockRouter) -> respx.Route:
    return api.post("/chat/completions").mock(
        side_effect=[
            httpx.Response(200, json=completion("a plan")),  # usage 12 + 5
            sse(
                [
                    chunk({"content": "Done"}, finish_reason="stop"),
                    chunk(no_choices=True, usage_=usage(prompt=100, completion=20, cached=50)),
                ]
            ),
        ]
    )


async def test_a_run_books_every_call_and_the_ledger_survives_save(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    mock_two_calls(api)
    workflow = two_calls(llm)
    ctx: Context[DictState] = Context(workflow)
    await ctx.store.set(LEDGER_KEY, UsageLedger(prices=PRICES))

    assert await workflow.run(ctx=ctx) == "Done"

    ledger: UsageLedger = await ctx.store.get(LEDGER_KEY)
    assert ledger.by_step["plan"].usage.total_tokens == 17
    assert ledger.by_step["writing"].usage == Usage(
        prompt_tokens=100, completion_tokens=20, cached_tokens=50, total_tokens=120
    )
    assert ledger.by_model["gpt-4o-mini"].calls == 2
    expected = (12 * 0.15 + 5 * 0.60 + 50 * 0.15 + 50 * 0.075 + 20 * 0.60) / 1_000_000
    assert ledger.total.cost == pytest.approx(expected)

    saved = json.loads(json.dumps(ctx.to_dict()))
    restored = await Context.from_dict(workflow, saved).store.get(LEDGER_KEY)
    assert restored == ledger


async def test_budget_stops_the_run_before_the_call(api: respx.MockRouter, llm: OpenAI) -> None:
    route = mock_two_calls(api)
    workflow = two_calls(llm)
    ctx: Context[DictState] = Context(workflow)
    prompt = count_prompt(QUESTION, "gpt-4o-mini")
    # Room for the first call (17 tokens), not for the second's prompt.
    await ctx.store.set(LEDGER_KEY, UsageLedger(budget_tokens=17 + prompt - 1))

    with pytest.raises(BudgetExceededError, match="step 'writing'") as caught:
        await workflow.run(ctx=ctx)

    assert route.call_count == 1
    assert caught.value.spent == 17
    assert caught.value.estimate == prompt
    assert caught.value.unit == "tokens"


async def test_usd_budget(api: respx.MockRouter) -> None:
    llm = OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL, max_tokens=1_000_000)
    ctx: Context[DictState] = Context(two_calls(llm))
    await ctx.store.set(LEDGER_KEY, UsageLedger(prices=PRICES, budget_usd=0.50))

    with pytest.raises(BudgetExceededError, match=r"over its budget of 0.5 USD"):
        await MeteredLLM(llm, ctx, step="s").achat(QUESTION)  # up to $0.60 of reply


async def test_unreported_usage_is_estimated(api: respx.MockRouter) -> None:
    api.post("/chat/completions").mock(
        return_value=sse([chunk({"content": "Hello there"}, finish_reason="stop")])
    )
    llm = OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL, stream_usage=False)
    ctx: Context[DictState] = Context(two_calls(llm))

    async for _ in MeteredLLM(llm, ctx, step="s").astream_chat(QUESTION):
        pass

    ledger: UsageLedger = await ctx.store.get(LEDGER_KEY)
    prompt = count_prompt(QUESTION, "gpt-4o-mini")
    reply = count_text("Hello there", "gpt-4o-mini")
    assert ledger.total.usage == Usage(
        prompt_tokens=prompt, completion_tokens=reply, total_tokens=prompt + reply
    )


async def test_a_stream_left_early_is_booked_when_closed(api: respx.MockRouter) -> None:
    api.post("/chat/completions").mock(
        return_value=sse(
            [
                chunk({"content": "Hello"}),
                chunk({"content": " there"}, finish_reason="stop"),
                chunk(no_choices=True, usage_=usage()),
            ]
        )
    )
    llm = OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL)
    ctx: Context[DictState] = Context(two_calls(llm))
    stream = MeteredLLM(llm, ctx, step="s").astream_chat(QUESTION)

    first = await anext(stream)
    await stream.aclose()

    assert first.delta == "Hello"
    ledger: UsageLedger = await ctx.store.get(LEDGER_KEY)
    assert ledger.total.calls == 1
    assert ledger.total.usage.completion_tokens == count_text("Hello", "gpt-4o-mini")


async def test_closing_a_metered_stream_closes_the_clients_at_once(
    api: respx.MockRouter, captured_spans: Any
) -> None:
    """The client's stream (and its `chat` span) ends when the caller closes the metered one,
    not later when the garbage collector finalizes it."""
    api.post("/chat/completions").mock(
        return_value=sse([chunk({"content": "Hello"}), chunk({"content": " there"})])
    )
    llm = OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL)
    ctx: Context[DictState] = Context(two_calls(llm))
    stream = MeteredLLM(llm, ctx, step="s").astream_chat(QUESTION)

    await anext(stream)
    await stream.aclose()

    assert [span.name for span in captured_spans.get_finished_spans()] == ["chat gpt-4o-mini"]


async def test_structured_attempts_are_each_booked(api: respx.MockRouter, llm: OpenAI) -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        value: int

    api.post("/chat/completions").mock(
        side_effect=[
            httpx.Response(200, json=completion('{"value": "x"}')),
            httpx.Response(200, json=completion('{"value": 3}')),
        ]
    )
    ctx: Context[DictState] = Context(two_calls(llm))

    answer = await MeteredLLM(llm, ctx, step="s").astructured_predict(Answer, QUESTION)

    assert answer.value == 3
    ledger: UsageLedger = await ctx.store.get(LEDGER_KEY)
    assert ledger.by_step["s"].calls == 2


def test_token_budget_counts_usage_booked_without_a_total() -> None:
    ledger = UsageLedger(budget_tokens=100)
    ledger.record("m", "s", Usage(prompt_tokens=60, completion_tokens=30))  # total left at 0
    with pytest.raises(BudgetExceededError) as caught:
        ledger.check("m", "s", prompt_tokens=20)
    assert caught.value.spent == 90


async def test_usage_without_total_from_the_server_counts(api: respx.MockRouter) -> None:
    # Some OpenAI-compatible servers report prompt and completion tokens but no total.
    body = completion()
    del body["usage"]["total_tokens"]
    api.post("/chat/completions").respond(200, json=body)
    llm = OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL)

    response = await llm.achat(QUESTION)

    assert response.usage is not None
    assert response.usage.total_tokens == 17


async def test_a_reply_limit_given_with_the_call_counts_in_the_budget(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    # No route: a request would fail the test. The budget must stop the call first.
    ctx: Context[DictState] = Context(two_calls(llm))
    prompt = count_prompt(QUESTION, "gpt-4o-mini")
    await ctx.store.set(LEDGER_KEY, UsageLedger(budget_tokens=prompt + 100))

    with pytest.raises(BudgetExceededError) as caught:
        await MeteredLLM(llm, ctx, step="s").achat(QUESTION, max_tokens=1_000)

    assert caught.value.estimate == prompt + 1_000


class CountingLLM(ScriptedLLM):
    """A scripted model that counts how often it is asked to count a prompt."""

    prompts_counted = 0

    def count_prompt_tokens(
        self, messages: Sequence[ChatMessage], tools: Sequence[Any] | None = None
    ) -> int:
        self.prompts_counted += 1
        return super().count_prompt_tokens(messages, tools)


async def test_without_a_budget_a_reply_with_usage_needs_no_prompt_count() -> None:
    # Counting the prompt and the tools' schemas is a tenth of an agent turn; without a
    # budget to check it only serves a reply that reports no usage.
    llm = CountingLLM(["Hello there", "Hi again"])
    ctx: Context[DictState] = Context(two_calls(llm))
    metered = MeteredLLM(llm, ctx, step="s")

    await metered.achat(QUESTION)
    async for _ in metered.astream_chat(QUESTION):
        pass

    assert llm.prompts_counted == 0
    ledger: UsageLedger = await ctx.store.get(LEDGER_KEY)
    assert ledger.total.calls == 2
    assert ledger.total.usage.prompt_tokens == 2 * llm.count_tokens("hi")  # as reported


async def test_without_a_budget_a_reply_without_usage_books_the_counted_prompt() -> None:
    llm = CountingLLM(["Hello there"], report_usage=False)
    ctx: Context[DictState] = Context(two_calls(llm))

    await MeteredLLM(llm, ctx, step="s").achat(QUESTION)

    ledger: UsageLedger = await ctx.store.get(LEDGER_KEY)
    prompt = llm.count_prompt_tokens(QUESTION)
    reply = llm.count_reply_tokens(ChatMessage.assistant("Hello there"))
    assert llm.prompts_counted == 2  # once for the booking, once here
    assert ledger.total.usage == Usage(
        prompt_tokens=prompt, completion_tokens=reply, total_tokens=prompt + reply
    )


async def test_with_a_token_budget_the_prompt_is_counted_before_the_call() -> None:
    llm = CountingLLM(["never sent"])
    ctx: Context[DictState] = Context(two_calls(llm))
    await ctx.store.set(LEDGER_KEY, UsageLedger(budget_tokens=5))

    with pytest.raises(BudgetExceededError):
        await MeteredLLM(llm, ctx, step="s").achat([ChatMessage.user("word " * 40)])

    assert llm.prompts_counted == 1
    assert llm.requests == []
