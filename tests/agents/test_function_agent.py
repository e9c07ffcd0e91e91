"""FunctionAgent against the real OpenAI client and respx-mocked SSE: parallel calls in
fragments run concurrently and answer in call order, tool errors and unknown tools go back
to the model, return_direct, max_iterations, structured output re-asked, conversation kept
in the context, usage in the output and the ledger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
import respx
from agent_runs import run_collecting
from llm_wire import calls_reply, chunk, refusal_reply, sent_json, sse, text_reply, usage
from pydantic import BaseModel

from agentflow import Context, step
from agentflow.context import DictState
from agents import (
    AgentOutput,
    AgentStream,
    FunctionAgent,
    MaxIterationsError,
    ToolCall,
    ToolCallResult,
)
from agents.agent import AgentInput, AgentReply
from agents.agent.run_state import AgentState
from agents.llm import (
    ChatResponse,
    LLMLengthError,
    LLMRefusalError,
    ScriptedLLM,
    StructuredOutputError,
    UsageLedger,
    tool_call,
)
from agents.llm.openai.client import OpenAI
from tools import tool


async def test_parallel_calls_run_concurrently_and_answer_in_call_order(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    slow_may_finish = asyncio.Event()

    @tool
    async def slow_lookup(city: str) -> str:
        """Look a city up; finishes only after fast_lookup, so the two must overlap."""
        await asyncio.wait_for(slow_may_finish.wait(), timeout=5)
        return f"{city}: 12C"

    @tool
    async def fast_lookup(city: str) -> str:
        """Look a city up at once."""
        slow_may_finish.set()
        return f"{city}: 20C"

    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(
                ("c1", "slow_lookup", '{"city": "Oslo"}'),
                ("c2", "fast_lookup", '{"city": "Rome"}'),
            ),
            text_reply("Oslo 12C, ", "Rome 20C."),
        ]
    )
    agent = FunctionAgent(tools=[slow_lookup, fast_lookup], llm=llm, system_prompt="Be brief.")

    output, events = await run_collecting(agent, user_msg="Weather in Oslo and Rome?")

    assert output.response.text == "Oslo 12C, Rome 20C."
    assert output.agent_name == "agent"
    assert [(r.call_id, r.content) for r in output.tool_calls] == [
        ("c1", "Oslo: 12C"),
        ("c2", "Rome: 20C"),
    ]
    assert (output.usage.prompt_tokens, output.usage.completion_tokens) == (20, 10)
    kinds = [type(ev).__name__ for ev in events]
    assert kinds[:3] == ["AgentInput", "ToolCall", "ToolCall"]
    # fast_lookup's result is on the stream first: it finished first.
    results = [ev for ev in events if isinstance(ev, ToolCallResult)]
    assert [r.tool_name for r in results] == ["fast_lookup", "slow_lookup"]
    calls = [ev for ev in events if isinstance(ev, ToolCall)]
    assert [(c.tool_name, c.arguments) for c in calls] == [
        ("slow_lookup", {"city": "Oslo"}),
        ("fast_lookup", {"city": "Rome"}),
    ]
    streamed = [ev for ev in events if isinstance(ev, AgentStream)]
    assert [(s.delta, s.response) for s in streamed] == [
        ("Oslo 12C, ", "Oslo 12C, "),
        ("Rome 20C.", "Oslo 12C, Rome 20C."),
    ]
    assert isinstance(events[-1], AgentOutput)
    first, second = (sent_json(call.request) for call in route.calls)
    assert [tool["function"]["name"] for tool in first["tools"]] == ["slow_lookup", "fast_lookup"]
    assert first["messages"][0] == {"role": "system", "content": "Be brief."}
    assert [m["role"] for m in second["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
    ]
    assert [m.get("tool_call_id") for m in second["messages"][3:]] == ["c1", "c2"]
    assert [m["content"] for m in second["messages"][3:]] == ["Oslo: 12C", "Rome: 20C"]


async def test_tool_error_and_unknown_tool_go_back_to_the_model(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    def divide(a: float, b: float) -> float:
        """Divide a by b."""
        return a / b

    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(
                ("c1", "divide", '{"a": 1, "b": 0}'),
                ("c2", "teleport", '{"to": "Mars"}'),
            ),
            text_reply("Cannot divide by zero, and I cannot teleport."),
        ]
    )
    agent = FunctionAgent(tools=[divide], llm=llm, name="mathbot")

    output, _ = await run_collecting(agent, user_msg="1/0, then teleport me")

    assert output.response.text == "Cannot divide by zero, and I cannot teleport."
    divided, teleported = output.tool_calls
    assert divided.is_error
    assert "ZeroDivisionError" in divided.content
    assert isinstance(divided.raw_output, ZeroDivisionError)
    assert teleported.is_error
    assert "no tool named 'teleport'" in teleported.content
    assert "divide" in teleported.content  # the names there are, for the model
    sent = sent_json(route.calls.last.request)["messages"]
    assert "ZeroDivisionError" in sent[2]["content"]
    assert "no tool named 'teleport'" in sent[3]["content"]


async def test_malformed_arguments_are_an_error_result(api: respx.MockRouter, llm: OpenAI) -> None:
    def echo(text: str) -> str:
        """Echo text."""
        return text

    api.post("/chat/completions").mock(
        side_effect=[calls_reply(("c1", "echo", '{"text": "hi"')), text_reply("Sorry.")]
    )
    output, _ = await run_collecting(FunctionAgent(tools=[echo], llm=llm), user_msg="echo hi")

    assert output.tool_calls[0].is_error
    assert "not valid JSON" in output.tool_calls[0].content
    assert output.response.text == "Sorry."


class RepairingLLM(ScriptedLLM):
    """A client that repairs what a server sends as it reads the reply (a Python-style dict
    for arguments, as some local servers write): `arguments` hold the repair, parsed once
    there, while `raw_arguments` keep what was sent."""

    async def astream_chat(self, *args: Any, **kwargs: Any) -> AsyncGenerator[ChatResponse, None]:
        async for response in super().astream_chat(*args, **kwargs):
            calls = [
                call.model_copy(update={"raw_arguments": str(call.arguments)})
                for call in response.message.tool_calls
            ]
            message = response.message.model_copy(update={"tool_calls": calls})
            yield response.model_copy(update={"message": message})


async def test_a_tool_runs_on_the_arguments_parsed_once_with_the_reply() -> None:
    def echo(text: str) -> str:
        """Echo text."""
        return text

    llm = RepairingLLM([tool_call("echo", {"text": "parsed"}), "Done."])
    agent = FunctionAgent(tools=[echo], llm=llm, streaming=True)
    output, _ = await run_collecting(agent, user_msg="echo")

    assert llm.requests[1].messages[-1].text == "parsed"  # not re-read from the text sent
    assert output.tool_calls[0].content == "parsed"


async def test_return_direct_tool_ends_the_run_with_its_output(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    @tool(return_direct=True)
    def book(room: str) -> str:
        """Book a room."""
        return f"Booked {room}."

    route = api.post("/chat/completions").mock(
        side_effect=[calls_reply(("c1", "book", '{"room": "A1"}'))]
    )
    agent = FunctionAgent(tools=[book], llm=llm)
    ctx: Context[AgentState] = Context(agent)

    output, _ = await run_collecting(agent, ctx=ctx, user_msg="Book A1")

    assert output.response.text == "Booked A1."
    assert len(route.calls) == 1
    async with ctx.store.edit_state() as state:
        messages = agent.conversation(state).get_all()
    assert [m.role for m in messages] == ["user", "assistant", "tool", "assistant"]


async def test_max_iterations_ends_with_an_error_naming_agent_and_limit(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    def ping() -> str:
        """Ping."""
        return "pong"

    route = api.post("/chat/completions").mock(
        side_effect=lambda request: calls_reply(("c1", "ping", "{}"))
    )
    agent = FunctionAgent(tools=[ping], llm=llm, name="looper", max_iterations=3)

    with pytest.raises(MaxIterationsError, match="'looper' reached max_iterations=3"):
        await agent.run(user_msg="ping forever")
    assert len(route.calls) == 3


class Concluding(FunctionAgent):
    answer_on_max_iterations = True


async def test_answer_on_max_iterations_makes_one_last_call_without_tools(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    def ping() -> str:
        """Ping."""
        return "pong"

    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("c1", "ping", "{}")),
            calls_reply(("c2", "ping", "{}")),
            text_reply("Ping answers pong."),
        ]
    )
    output = await Concluding(tools=[ping], llm=llm, max_iterations=2).run(user_msg="ping")

    assert output.response.text == "Ping answers pong."
    assert [sent_json(call.request).get("tool_choice") for call in route.calls] == [
        None,
        None,
        "none",
    ]


async def test_answer_on_max_iterations_runs_no_tool_a_server_ignoring_tool_choice_asks_for(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    pings: list[int] = []

    def ping(n: int) -> str:
        """Ping host n."""
        pings.append(n)
        return "pong"

    route = api.post("/chat/completions").mock(
        side_effect=[calls_reply((f"c{n}", "ping", f'{{"n": {n}}}')) for n in range(3)]
    )
    agent = Concluding(tools=[ping], llm=llm, name="looper", max_iterations=2)

    with pytest.raises(MaxIterationsError, match="'looper' reached max_iterations=2") as raised:
        await agent.run(user_msg="ping")

    assert sent_json(route.calls.last.request)["tool_choice"] == "none"
    assert pings == [0, 1]  # on main ping(2), which the model was told not to call, ran too
    assert any("tool_choice='none'" in note for note in raised.value.__notes__)


class City(BaseModel):
    name: str
    population: int


async def test_structured_output_valid_on_the_second_try(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            text_reply('{"name": "Oslo", "population": "many"}'),
            text_reply('{"name": "Oslo", ', '"population": 709000}'),
        ]
    )
    agent = FunctionAgent(llm=llm, output_cls=City)

    output, _ = await run_collecting(agent, user_msg="Biggest city in Norway?")

    assert output.structured_response == City(name="Oslo", population=709000)
    assert len(route.calls) == 2  # no extra call after the valid answer
    first, second = (sent_json(call.request) for call in route.calls)
    assert first["response_format"]["json_schema"]["name"] == "City"
    assert "tools" not in first
    retry = second["messages"][-1]
    assert retry["role"] == "user"
    assert "population" in retry["content"]


async def test_failed_structured_answers_leave_the_memory_once_one_validates(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            text_reply('{"name": "Oslo"}'),
            text_reply('{"name": "Oslo", "population": 709000}'),
            text_reply('{"name": "Bergen", "population": 291000}'),
        ]
    )
    agent = FunctionAgent(llm=llm, output_cls=City)
    ctx: Context[DictState] = Context(agent)

    await run_collecting(agent, ctx=ctx, user_msg="Biggest city in Norway?")
    output, _ = await run_collecting(agent, ctx=ctx, user_msg="And the second?")

    assert output.structured_response == City(name="Bergen", population=291000)
    sent = sent_json(route.calls.last.request)["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "Biggest city in Norway?"),
        ("assistant", '{"name": "Oslo", "population": 709000}'),
        ("user", "And the second?"),
    ]


async def test_a_tight_memory_keeps_the_question_behind_a_structured_re_ask(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    from agents.memory import ChatMemory

    def census(city: str) -> str:
        """The census record of a city."""
        return "record " * 400

    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("c1", "census", '{"city": "Oslo"}')),
            text_reply('{"name": "Oslo"}'),
            text_reply('{"name": "Oslo", "population": 709000}'),
        ]
    )
    memory = ChatMemory(token_limit=500, llm=llm)
    agent = FunctionAgent(tools=[census], llm=llm, output_cls=City, memory=memory)

    output, _ = await run_collecting(agent, user_msg="Population of Oslo?")

    assert output.structured_response == City(name="Oslo", population=709000)
    sent = sent_json(route.calls.last.request)["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "assistant", "user"]
    assert sent[0]["content"] == "Population of Oslo?"


async def test_structured_output_gives_up_after_the_limit(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(side_effect=lambda request: text_reply("not json"))
    agent = FunctionAgent(llm=llm, output_cls=City)

    with pytest.raises(StructuredOutputError, match="no valid City after 3 attempts") as raised:
        await agent.run(user_msg="?")
    assert "raised by agent 'agent'" in raised.value.__notes__


async def test_a_refused_structured_answer_is_a_refusal_after_one_request(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=lambda request: refusal_reply("I can't ", "help with that.")
    )
    agent = FunctionAgent(llm=llm, output_cls=City)

    with pytest.raises(LLMRefusalError) as raised:
        await agent.run(user_msg="?")

    assert raised.value.refusal == "I can't help with that."
    assert "raised by agent 'agent'" in raised.value.__notes__
    assert route.call_count == 1


def cut_off_reply(*pieces: str) -> Any:
    """A reply stopped at the token limit: `finish_reason` "length"."""
    return sse(
        [chunk({"role": "assistant", "content": ""})]
        + [chunk({"content": piece}) for piece in pieces]
        + [chunk({}, finish_reason="length"), chunk(no_choices=True, usage_=usage())]
    )


async def test_a_structured_answer_cut_off_at_the_token_limit_is_a_length_error_at_once(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=lambda request: cut_off_reply('{"name": "Os')
    )
    agent = FunctionAgent(llm=llm, output_cls=City)

    with pytest.raises(LLMLengthError) as raised:
        await agent.run(user_msg="?")

    assert raised.value.partial_text == '{"name": "Os'
    assert "raised by agent 'agent'" in raised.value.__notes__
    assert route.call_count == 1  # asked again under the same limit, it would be cut again


async def test_a_text_answer_cut_off_at_the_token_limit_is_still_the_answer(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(return_value=cut_off_reply("Oslo is the"))

    output = await FunctionAgent(llm=llm).run(user_msg="?")

    assert output.response.text == "Oslo is the"


async def test_same_ctx_continues_the_conversation_and_books_usage(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[text_reply("Hi Ada."), text_reply("Your name is Ada.")]
    )
    agent = FunctionAgent(llm=llm)
    ctx: Context[DictState] = Context(agent)

    await run_collecting(agent, ctx=ctx, user_msg="I am Ada.")
    output, _ = await run_collecting(agent, ctx=ctx, user_msg="What is my name?")

    assert output.response.text == "Your name is Ada."
    assert (output.usage.prompt_tokens, output.usage.completion_tokens) == (10, 4)  # this run
    sent = sent_json(route.calls.last.request)["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "I am Ada."),
        ("assistant", "Hi Ada."),
        ("user", "What is my name?"),
    ]
    ledger = await ctx.store.get("usage_ledger")
    assert isinstance(ledger, UsageLedger)
    assert ledger.by_step["call_llm"].calls == 2
    assert ledger.total.usage.prompt_tokens == 20


async def test_chat_history_replaces_the_memory(api: respx.MockRouter, llm: OpenAI) -> None:
    from agents.llm import ChatMessage

    route = api.post("/chat/completions").mock(return_value=text_reply("Blue."))
    agent = FunctionAgent(llm=llm)

    await agent.run(
        user_msg="And mine?",
        chat_history=[ChatMessage.user("Sky colour?"), ChatMessage.assistant("Blue.")],
    )

    sent = sent_json(route.calls.last.request)["messages"]
    assert [m["content"] for m in sent] == ["Sky colour?", "Blue.", "And mine?"]


async def test_llama_index_tools_and_plain_callables(api: respx.MockRouter, llm: OpenAI) -> None:
    from llama_index.core.tools import FunctionTool as LlamaFunctionTool

    def shout(text: str) -> str:
        """Upper-case text."""
        return text.upper()

    def whisper(text: str) -> str:
        """Lower-case text."""
        return text.lower()

    api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("c1", "shout", '{"text": "hi"}'), ("c2", "whisper", '{"text": "HO"}')),
            text_reply("HI ho"),
        ]
    )
    llama_tool = LlamaFunctionTool.from_defaults(fn=whisper)
    agent = FunctionAgent(tools=[shout, llama_tool], llm=llm)

    output, _ = await run_collecting(agent, user_msg="go")

    assert [r.content for r in output.tool_calls] == ["HI", "ho"]
    assert not any(r.is_error for r in output.tool_calls)


class Polite(FunctionAgent):
    """Overrides one step: the reply gets a closing line before the loop sees it."""

    @step
    async def call_llm(self, ctx: Context[DictState], ev: AgentInput) -> AgentReply:
        reply = await super().call_llm(ctx, ev)
        message = reply.message.model_copy(update={"content": reply.message.text + " Thanks!"})
        return reply.model_copy(update={"message": message})


async def test_an_overridden_step_changes_one_behaviour(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(return_value=text_reply("Done."))
    output = await Polite(llm=llm).run(user_msg="do it")

    assert output.response.text == "Done. Thanks!"


def test_agent_needs_an_llm_and_a_sane_limit() -> None:
    with pytest.raises(TypeError, match="FunctionAgent 'x' needs an llm"):
        FunctionAgent(name="x")
    with pytest.raises(ValueError, match="max_iterations must be at least 1, got 0"):
        FunctionAgent(llm=OpenAI("m", api_key="k"), max_iterations=0)


def readme_agents_blocks() -> list[str]:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Agents\n") : readme.index("\n## Tools\n")]
    blocks: list[str] = re.findall(r"```(?:python)?\n(.*?)```", section, flags=re.DOTALL)
    return blocks


async def test_readme_agents_section_prints_what_it_shows(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import textwrap

    code, shown = readme_agents_blocks()[:2]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://llm.test/v1")
    api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("c1", "calculator", '{"expression": "2340 * 0.175"}')),
            text_reply("17.5% of 2340 ", "is 409.5."),
        ]
    )
    namespace: dict[str, Any] = {}
    exec("async def readme_main():\n" + textwrap.indent(code, "    "), namespace)

    await namespace["readme_main"]()

    assert capsys.readouterr().out.strip() == shown.strip()


async def test_a_given_memory_seeds_each_context_with_its_own_copy(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    from agents.llm.types import ChatMessage
    from agents.memory import ChatMemory

    route = api.post("/chat/completions").mock(
        side_effect=[text_reply("Hi Ada."), text_reply("Hi Bob.")]
    )
    seed = ChatMemory(llm=llm)
    seed.put(ChatMessage.user("We speak English."))
    agent = FunctionAgent(llm=llm, memory=seed)

    await agent.run(user_msg="I am Ada.")
    await agent.run(user_msg="I am Bob.")

    second = [m["content"] for m in sent_json(route.calls[1].request)["messages"]]
    assert second == ["We speak English.", "I am Bob."]
    assert [m.text for m in seed.get_all()] == ["We speak English."]
