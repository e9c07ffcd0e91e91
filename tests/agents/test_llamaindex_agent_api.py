"""The rest of LlamaIndex's agent API on ours: a LlamaIndex LLM given directly, the events'
LlamaIndex field names, the constructor options (`initial_state`, `state_prompt`,
`structured_output_fn`, `streaming`, `early_stopping_method`, the handoff prompts) and
`run()`'s (`memory`, `max_iterations`, `early_stopping_method`, LlamaIndex messages), each
with the error a bad value gets. The LLM is the real OpenAI client on respx-mocked SSE, or
one of LlamaIndex's own mock LLMs."""

from __future__ import annotations

from typing import Any

import pytest
import respx
from agent_runs import run_collecting
from llama_index.core.llms import ChatMessage as LlamaChatMessage
from llama_index.core.llms.mock import MockFunctionCallingLLM, MockLLM
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.prompts import PromptTemplate
from llm_wire import calls_reply, sent_json, text_reply
from pydantic import BaseModel

from agentflow import Context
from agents import (
    AgentOutput,
    AgentStream,
    AgentWorkflow,
    FunctionAgent,
    MaxIterationsError,
    ReActAgent,
    ToolCall,
    ToolCallResult,
)
from agents.agent import AgentInput, AgentOptionError, HandoffError
from agents.llm import ChatMessage, LlamaIndexLLM
from agents.llm.openai.client import OpenAI
from agents.memory import ChatMemory


def sent_texts(route: respx.Route, call: int) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in sent_json(route.calls[call].request)["messages"]]


def ping() -> str:
    """Ping."""
    return "pong"


# -- the LLM -----------------------------------------------------------------------------


def test_a_llamaindex_llm_is_taken_directly() -> None:
    agent = FunctionAgent(llm=MockFunctionCallingLLM(), name="a")
    assert isinstance(agent.llm, LlamaIndexLLM)
    assert isinstance(agent.llm.llm, MockFunctionCallingLLM)
    workflow = AgentWorkflow(agents=[ReActAgent(llm=MockLLM(), name="r")])
    assert isinstance(workflow.agents["r"].llm, LlamaIndexLLM)


def test_something_that_is_no_llm_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match=r"'gpt-4o' \(str\) is not an LLM"):
        FunctionAgent(llm="gpt-4o")  # type: ignore[arg-type]


async def test_from_tools_or_functions_picks_react_for_a_model_without_function_calling() -> None:
    workflow = AgentWorkflow.from_tools_or_functions([ping], llm=MockLLM(), system_prompt="Hi.")
    agent = workflow.agents["Agent"]
    assert type(agent) is ReActAgent
    assert agent.system_prompt == "Hi."
    assert "ping" in agent.toolset
    calling = AgentWorkflow.from_tools_or_functions([ping], llm=MockFunctionCallingLLM())
    assert type(calling.agents["Agent"]) is FunctionAgent
    with pytest.raises(TypeError, match="from_tools_or_functions needs an llm"):
        AgentWorkflow.from_tools_or_functions([ping])


# -- the events' LlamaIndex names --------------------------------------------------------


def test_events_take_and_give_llamaindex_field_names() -> None:
    call = ToolCall(
        tool_name="ping", tool_kwargs={"x": 1}, tool_id="c1", index=0, current_agent_name="a"
    )
    assert (call.arguments, call.call_id, call.agent_name) == ({"x": 1}, "c1", "a")
    assert (call.tool_kwargs, call.tool_id, call.current_agent_name) == ({"x": 1}, "c1", "a")
    result = ToolCallResult(
        call_id="c1",
        tool_name="ping",
        arguments={"x": 1},
        content="pong",
        index=0,
        agent_name="a",
        raw_output={"pong": True},
    )
    assert str(result.tool_output) == "pong"
    assert result.tool_output.raw_output == {"pong": True}
    assert result.tool_output.raw_input == {"x": 1}
    assert not result.tool_output.is_error
    dumped = result.model_dump()
    assert dumped["tool_kwargs"] == {"x": 1}
    assert dumped["tool_id"] == "c1"
    assert dumped["current_agent_name"] == "a"
    assert dumped["tool_output"] == {
        "tool_name": "ping",
        "content": "pong",
        "raw_input": {"x": 1},
        "is_error": False,
    }
    assert "tool_kwargs" not in result.to_dict()  # stored once, under agentflow's name
    assert AgentInput(input=[], current_agent_name="a").current_agent_name == "a"


class City(BaseModel):
    name: str


class Town(BaseModel):
    name: str


def test_output_gives_its_structured_response_as_a_model() -> None:
    output = AgentOutput(
        response=ChatMessage.assistant("Oslo"),
        structured_response=City(name="Oslo"),
        agent_name="a",
    )
    assert output.get_pydantic_model(City) == City(name="Oslo")
    assert output.get_pydantic_model(Town) == Town(name="Oslo")
    as_dict = AgentOutput(
        response=ChatMessage.assistant("x"), structured_response={"name": "Bergen"}, agent_name="a"
    )
    assert as_dict.get_pydantic_model(City) == City(name="Bergen")
    empty = AgentOutput(response=ChatMessage.assistant("x"), agent_name="a")
    assert empty.get_pydantic_model(City) is None


async def test_a_run_streams_llamaindex_fields(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(
        side_effect=[calls_reply(("c1", "ping", "{}")), text_reply("It ", "pongs.")]
    )
    output, events = await run_collecting(
        FunctionAgent(tools=[ping], llm=llm, name="p"), user_msg="?"
    )
    calls = [ev for ev in events if isinstance(ev, ToolCall)]
    results = [ev for ev in events if isinstance(ev, ToolCallResult)]
    streams = [ev for ev in events if isinstance(ev, AgentStream)]
    assert [(c.tool_name, c.tool_kwargs, c.tool_id) for c in calls] == [("ping", {}, "c1")]
    assert [(r.tool_id, str(r.tool_output)) for r in results] == [("c1", "pong")]
    assert [(s.delta, s.response, s.current_agent_name) for s in streams] == [
        ("It ", "It ", "p"),
        ("pongs.", "It pongs.", "p"),
    ]
    assert [(c.tool_name, c.tool_id) for c in output.tool_calls] == [("ping", "c1")]


# -- constructor options -----------------------------------------------------------------


async def test_initial_state_and_state_prompt_put_the_state_in_the_user_message(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(side_effect=[text_reply("Hi Ada.")])
    agent = FunctionAgent(
        llm=llm,
        initial_state={"name": "Ada"},
        state_prompt=PromptTemplate("State: {state}\nMessage: {msg}"),
    )
    handler = agent.run("Who am I?")
    await handler
    assert sent_texts(route, 0) == [("user", "State: {'name': 'Ada'}\nMessage: Who am I?")]
    assert await handler.ctx.store.get("state") == {"name": "Ada"}


async def test_without_state_prompt_the_message_stays_as_written(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(side_effect=[text_reply("Hi.")])
    await FunctionAgent(llm=llm, initial_state={"name": "Ada"}).run("Who am I?")
    assert sent_texts(route, 0) == [("user", "Who am I?")]


def test_bad_options_are_refused_naming_agent_and_option(llm: OpenAI) -> None:
    with pytest.raises(AgentOptionError, match=r"FunctionAgent 'a': state_prompt must contain"):
        FunctionAgent(llm=llm, name="a", state_prompt="only {state}")
    with pytest.raises(AgentOptionError, match=r"'a': early_stopping_method must be"):
        FunctionAgent(llm=llm, name="a", early_stopping_method="later")  # type: ignore[arg-type]
    with pytest.raises(AgentOptionError, match=r"'a': tool_retriever is not supported"):
        FunctionAgent(llm=llm, name="a", tool_retriever=object())
    one = FunctionAgent(llm=llm, name="one")
    with pytest.raises(AgentOptionError, match=r"handoff_prompt must contain \{agent_info\}"):
        AgentWorkflow(agents=[one], handoff_prompt="Hand off.")
    with pytest.raises(AgentOptionError, match=r"\{reason\} is missing"):
        AgentWorkflow(agents=[one], handoff_output_prompt="Now {to_agent}.")
    stateful = FunctionAgent(llm=llm, name="s", initial_state={"k": 1})
    with pytest.raises(HandoffError, match="agent 's' has an initial_state of its own"):
        AgentWorkflow(agents=[one, stateful])


async def test_structured_output_fn_makes_the_structured_response(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(side_effect=[text_reply("Oslo.")])

    async def summarise(messages: list[ChatMessage]) -> dict[str, Any]:
        return {"said": [m.text for m in messages]}

    output = await FunctionAgent(llm=llm, structured_output_fn=summarise).run("Capital?")
    assert output.structured_response == {"said": ["Capital?", "Oslo."]}


async def test_streaming_false_writes_no_token_events(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(side_effect=[text_reply("A ", "b.")])
    output, events = await run_collecting(FunctionAgent(llm=llm, streaming=False), user_msg="?")
    assert output.response.text == "A b."
    assert not [ev for ev in events if isinstance(ev, AgentStream)]


async def test_early_stopping_generate_answers_at_the_limit(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[calls_reply(("c1", "ping", "{}")), text_reply("Pong, it says.")]
    )
    agent = FunctionAgent(tools=[ping], llm=llm, max_iterations=1, early_stopping_method="generate")
    output = await agent.run("ping")
    assert output.response.text == "Pong, it says."
    assert sent_json(route.calls[1].request)["tool_choice"] == "none"


async def test_run_sets_its_own_limit_and_early_stopping(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(
        side_effect=lambda request: calls_reply(("c1", "ping", "{}"))
    )
    agent = FunctionAgent(tools=[ping], llm=llm, name="looper", early_stopping_method="generate")
    with pytest.raises(MaxIterationsError, match="max_iterations=2"):
        await agent.run("ping", max_iterations=2, early_stopping_method="force")


async def test_workflow_handoff_prompts_and_output_cls_reach_every_agent(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("h1", "handoff", '{"to_agent": "geo", "reason": "maps"}')),
            text_reply('{"name": "Oslo"}'),
        ]
    )
    router = FunctionAgent(llm=llm, name="router", can_handoff_to=["geo"])
    geo = FunctionAgent(llm=llm, name="geo", description="Knows places.", can_handoff_to=[])
    workflow = AgentWorkflow(
        agents=[router, geo],
        handoff_prompt="Pick one of:\n{agent_info}",
        handoff_output_prompt="Now {to_agent}, because {reason}.",
        output_cls=City,
    )
    output, _ = await run_collecting(workflow, user_msg="Capital of Norway?")  # type: ignore[arg-type]
    first = sent_json(route.calls[0].request)
    assert first["tools"][0]["function"]["description"] == "Pick one of:\n- geo: Knows places."
    assert [m["content"] for m in sent_json(route.calls[1].request)["messages"]][-1] == (
        "Now geo, because maps."
    )
    assert output.structured_response == City(name="Oslo")
    assert output.current_agent_name == "geo"


# -- run() options -----------------------------------------------------------------------


async def test_run_takes_memory_messages_and_context_in_llamaindex_order(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[text_reply("Hi Ada."), text_reply("Ok.")]
    )
    agent = FunctionAgent(llm=llm)
    memory = ChatMemoryBuffer.from_defaults(
        token_limit=1000, chat_history=[LlamaChatMessage(role="user", content="I am Ada.")]
    )
    ctx = Context(agent)
    await agent.run(LlamaChatMessage(role="user", content="Who am I?"), None, memory, ctx)
    assert sent_texts(route, 0) == [("user", "I am Ada."), ("user", "Who am I?")]
    other = ChatMemory(token_limit=1000, messages=[ChatMessage.user("Ignored: ctx has one.")])
    await agent.run(user_msg="Thanks.", memory=other, ctx=ctx)
    assert [text for _, text in sent_texts(route, 1)] == [
        "I am Ada.",
        "Who am I?",
        "Hi Ada.",
        "Thanks.",
    ]


def test_run_refuses_a_memory_it_cannot_read(llm: OpenAI) -> None:
    with pytest.raises(TypeError, match=r"run\(memory=\.\.\.\) takes a ChatMemory or a LlamaIndex"):
        FunctionAgent(llm=llm).run("hi", memory=["not", "a", "memory"])
