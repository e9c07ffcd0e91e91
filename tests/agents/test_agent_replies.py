"""What an agent run gives back, over the real OpenAI client and respx-mocked SSE: a reply
with nothing in it is an error rather than an empty answer, `output.usage` is what the
ledger booked (the estimate included when the server reports none), the output prints as
its answer, and `run()` takes the user message first, as LlamaIndex's agents do."""

from __future__ import annotations

from typing import Any

import pytest
import respx
from llm_wire import BASE_URL, chunk, sent_json, sse, text_reply, usage

from agentflow import Context
from agentflow.context import DictState
from agents import AgentOutput, AgentWorkflow, FunctionAgent, ReActAgent
from agents.agent import AgentError, ReActFormatLimitError
from agents.llm import UsageLedger
from agents.llm.errors import EmptyResponseError, LLMRefusalError
from agents.llm.metered import LEDGER_KEY
from agents.llm.openai.client import OpenAI
from tools import tool


@tool
def shout(text: str) -> str:
    """Upper-case text."""
    return text.upper()


def make_agent(kind: str, llm: OpenAI) -> FunctionAgent | AgentWorkflow:
    if kind == "function":
        return FunctionAgent(tools=[shout], llm=llm, name="helper")
    if kind == "react":
        return ReActAgent(tools=[shout], llm=llm, name="helper")
    return AgentWorkflow(agents=[FunctionAgent(tools=[shout], llm=llm, name="helper")])


AGENT_KINDS = ["function", "react", "workflow"]

EMPTY_REPLIES = {
    "finish reason only": [
        chunk({"role": "assistant", "content": ""}),
        chunk({}, finish_reason="stop"),
        chunk(no_choices=True, usage_=usage()),
    ],
    "null delta": [{**chunk(), "choices": [{"index": 0, "delta": None, "finish_reason": "stop"}]}],
}


@pytest.mark.parametrize("kind", ["function", "workflow"])
@pytest.mark.parametrize("reply", list(EMPTY_REPLIES))
async def test_a_reply_with_no_text_and_no_call_is_an_error_not_an_empty_answer(
    api: respx.MockRouter, llm: OpenAI, kind: str, reply: str
) -> None:
    route = api.post("/chat/completions").mock(return_value=sse(EMPTY_REPLIES[reply]))

    with pytest.raises(EmptyResponseError) as raised:
        await make_agent(kind, llm).run(user_msg="Shout hi")

    assert isinstance(raised.value, AgentError)
    message = str(raised.value)
    assert "agent 'helper'" in message
    assert "'gpt-4o-mini'" in message
    assert "no text and no tool call" in message
    assert route.call_count == 1  # not asked again: an empty reply is not the model's answer


@pytest.mark.parametrize("reply", list(EMPTY_REPLIES))
async def test_a_react_agent_sends_an_empty_reply_back_as_a_format_error(
    api: respx.MockRouter, llm: OpenAI, reply: str
) -> None:
    # What a ReAct model sends when it starts its reply with "Observation:", where the
    # request stops: the README's ReAct paragraph says such a reply is sent back.
    route = api.post("/chat/completions").mock(
        side_effect=[sse(EMPTY_REPLIES[reply]), text_reply("Thought: easy\nAnswer: HI")]
    )

    output = await make_agent("react", llm).run("Shout hi")

    assert str(output) == "HI"
    reminder = sent_json(route.calls.last.request)["messages"][-1]
    assert reminder["role"] == "user"
    assert "the reply is empty" in reminder["content"]


async def test_a_react_agent_gives_up_on_empty_replies_after_its_format_limit(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=lambda request: sse(EMPTY_REPLIES["finish reason only"])
    )
    agent = make_agent("react", llm)
    assert isinstance(agent, ReActAgent)

    with pytest.raises(ReActFormatLimitError, match="the reply is empty"):
        await agent.run("Shout hi")

    assert route.call_count == agent.max_format_errors + 1


async def test_the_empty_reply_error_says_how_the_stream_ended(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(
        return_value=sse([chunk({"content": ""}, finish_reason="content_filter")])
    )

    with pytest.raises(EmptyResponseError, match="finish_reason 'content_filter'"):
        await FunctionAgent(llm=llm).run(user_msg="hi")


async def test_a_refusal_is_an_llm_refusal_error(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(
        return_value=sse(
            [
                chunk({"role": "assistant", "refusal": "I can't help with that."}),
                chunk({}, finish_reason="stop"),
            ]
        )
    )

    with pytest.raises(LLMRefusalError, match="I can't help with that"):
        await FunctionAgent(llm=llm).run(user_msg="hi")


def calls_without_usage() -> Any:
    """A tool call, streamed as a server that never reports usage sends it."""
    call = {"index": 0, "id": "c1", "type": "function"}
    call["function"] = {"name": "shout", "arguments": '{"text": "hi"}'}
    return sse([chunk({"tool_calls": [call]}), chunk({}, finish_reason="tool_calls")])


def text_without_usage(text: str) -> Any:
    return sse([chunk({"content": text}), chunk({}, finish_reason="stop")])


@pytest.mark.parametrize("kind", AGENT_KINDS)
async def test_output_usage_is_what_the_ledger_booked_when_the_server_reports_none(
    api: respx.MockRouter, kind: str
) -> None:
    llm = OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL, stream_usage=False)
    react = kind == "react"
    api.post("/chat/completions").mock(
        side_effect=[
            text_without_usage('Action: shout\nAction Input: {"text": "hi"}')
            if react
            else calls_without_usage(),
            text_without_usage("Answer: HI" if react else "HI"),
            text_without_usage("Answer: Bye" if react else "Bye"),
        ]
    )
    agent = make_agent(kind, llm)
    ctx: Context[DictState] = Context(agent)

    first = await agent.run(user_msg="Shout hi", ctx=ctx)
    ledger = await ctx.store.get(LEDGER_KEY)
    assert isinstance(ledger, UsageLedger)
    calls_first, usage_first = ledger.total.calls, ledger.total.usage
    second = await agent.run(user_msg="Bye", ctx=ctx)

    assert calls_first == 2
    assert first.usage == usage_first  # the documented tiktoken estimate, for both calls
    assert first.usage.prompt_tokens > 0
    assert first.usage.completion_tokens > 0
    ledger = await ctx.store.get(LEDGER_KEY)
    assert ledger.by_step["call_llm"].calls == 3
    assert first.usage + second.usage == ledger.total.usage  # each run its own share


async def test_output_usage_is_the_servers_usage_as_booked(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(
        side_effect=[calls_without_usage(), text_reply("HI", prompt=30, completion=7)]
    )
    agent = FunctionAgent(tools=[shout], llm=llm)
    ctx: Context[DictState] = Context(agent)

    output = await agent.run(user_msg="Shout hi", ctx=ctx)

    ledger = await ctx.store.get(LEDGER_KEY)
    assert output.usage == ledger.total.usage
    # One call reported by the server (30 + 7), one estimated.
    assert output.usage.prompt_tokens > 30
    assert output.usage.completion_tokens > 7


@pytest.mark.parametrize("kind", AGENT_KINDS)
async def test_the_output_prints_as_its_answer_and_run_takes_the_message_first(
    api: respx.MockRouter,
    llm: OpenAI,
    kind: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answer = "Answer: HELLO" if kind == "react" else "HELLO"
    api.post("/chat/completions").mock(
        side_effect=[text_reply(answer), text_reply(answer), text_reply(answer)]
    )
    agent = make_agent(kind, llm)

    print(await agent.run("Shout hello"))
    output = await agent.run(user_msg="Shout hello")
    ctx: Context[DictState] = Context(agent)
    positional_ctx = await agent.run(ctx, user_msg="Shout hello")  # as Workflow.run takes it

    assert capsys.readouterr().out == "HELLO\n"
    assert isinstance(output, AgentOutput)
    assert str(output) == str(positional_ctx) == "HELLO"
    assert f"{output}" == "HELLO"
    memory = await ctx.store.get("memory")
    assert memory.messages[0].text == "Shout hello"  # the run used that ctx


async def test_run_refuses_a_message_given_twice(llm: OpenAI) -> None:
    agent = FunctionAgent(llm=llm)

    with pytest.raises(TypeError, match="user_msg"):
        agent.run("one", user_msg="two")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="ctx"):
        agent.run(Context(agent), ctx=Context(agent))  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="at most 4 positional arguments"):
        agent.run("one", [], None, Context(agent), 5)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"run\(memory=\.\.\.\) takes a ChatMemory .* got Context"):
        agent.run("one", [], Context(agent))  # LlamaIndex's order: the memory comes third


def test_an_output_without_text_prints_as_empty() -> None:
    from agents.llm import ChatMessage

    output = AgentOutput(response=ChatMessage.assistant(None), agent_name="a")

    assert str(output) == ""
