"""ReActAgent against the real OpenAI client and respx-mocked SSE: tools described in the
prompt (none sent as schemas), one action per reply with its result as an Observation,
tool errors and unknown tools read by the model, malformed replies sent back within a
limit, structured answers, approval denial, max_iterations, conversation kept."""

from __future__ import annotations

from typing import Any

import pytest
import respx
from agent_runs import run_collecting
from llm_wire import sent_json, text_reply
from pydantic import BaseModel

from agentflow import Context
from agents import (
    AgentStream,
    MaxIterationsError,
    ReActAgent,
    ToolApprovalRequired,
    ToolApprovalResponse,
    ToolCall,
)
from agents.agent import ReActFormatLimitError
from agents.llm.openai.client import OpenAI
from tools import tool


@tool
def lookup(city: str) -> str:
    """Population of a city."""
    populations = {"Lyon": "522,000", "Nice": "342,000"}
    if city not in populations:
        raise KeyError(f"no data for {city}")
    return populations[city]


def sent_messages(route: respx.Route, call: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sent_json(route.calls[call].request)["messages"]
    return messages


async def test_an_action_runs_its_tool_and_the_observation_leads_to_the_answer(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            text_reply("Thought: I need data.\nAction: lookup\n", 'Action Input: {"city": "Lyon"}'),
            text_reply("Thought: I know.\nAnswer: ", "Lyon has 522,000 people."),
        ]
    )
    agent = ReActAgent(tools=[lookup], llm=llm, system_prompt="Be exact.", name="geo")

    output, events = await run_collecting(agent, user_msg="How many people live in Lyon?")

    assert output.response.text == "Lyon has 522,000 people."
    assert [(r.tool_name, r.arguments, r.content) for r in output.tool_calls] == [
        ("lookup", {"city": "Lyon"}, "522,000")
    ]
    first = sent_json(route.calls[0].request)
    assert "tools" not in first
    assert first["stop"] == ["\nObservation:"]
    system = first["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("Be exact.\n\n")
    assert "- lookup: Population of a city." in system["content"]
    second = sent_messages(route, 1)
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[2]["content"].endswith('Action Input: {"city": "Lyon"}')
    assert second[3]["content"] == "Observation: 522,000"
    deltas = [ev.delta for ev in events if isinstance(ev, AgentStream)]
    assert "".join(deltas).endswith("Lyon has 522,000 people.")
    calls = [ev for ev in events if isinstance(ev, ToolCall)]
    assert [(c.tool_name, c.agent_name) for c in calls] == [("lookup", "geo")]


async def test_tool_errors_and_unknown_tools_are_observations(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            text_reply('Action: lookup\nAction Input: {"city": "Atlantis"}'),
            text_reply('Action: weather\nAction Input: {"city": "Nice"}'),
            text_reply("Answer: I could not find it."),
        ]
    )
    output, _ = await run_collecting(ReActAgent(tools=[lookup], llm=llm), user_msg="Atlantis?")

    errors = [(r.tool_name, r.is_error) for r in output.tool_calls]
    assert errors == [("lookup", True), ("weather", True)]
    observations = [m["content"] for m in sent_messages(route, 2) if m["role"] == "user"][1:]
    assert "no data for Atlantis" in observations[0]
    assert "weather" in observations[1]
    assert "lookup" in observations[1]  # the unknown-tool error lists the tools there are


async def test_a_malformed_reply_is_sent_back_and_the_model_recovers(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            text_reply("Thought: I should look it up\nAction: lookup\nAction Input: Lyon"),
            text_reply('Thought: retry\nAction: lookup\nAction Input: {"city": "Lyon"}'),
            text_reply("Answer: 522,000"),
        ]
    )
    output, _ = await run_collecting(ReActAgent(tools=[lookup], llm=llm), user_msg="Lyon?")

    assert output.response.text == "522,000"
    reminder = sent_messages(route, 1)[-1]
    assert reminder["role"] == "user"
    assert "the Action Input for 'lookup' is not a JSON object" in reminder["content"]


async def test_too_many_malformed_replies_end_the_run_with_a_clear_error(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(return_value=text_reply("Thought: still thinking"))
    agent = ReActAgent(tools=[lookup], llm=llm, name="muddled")
    agent.max_format_errors = 1

    with pytest.raises(ReActFormatLimitError, match="agent 'muddled' got 2 replies") as raised:
        await agent.run(user_msg="?")
    assert "neither an Action nor an Answer" in str(raised.value)


class Population(BaseModel):
    city: str
    people: int


async def test_structured_answer_valid_on_the_second_try(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            text_reply('Answer: {"city": "Lyon"}'),
            text_reply('Thought: fixed\nAnswer: {"city": "Lyon", "people": 522000}'),
        ]
    )
    agent = ReActAgent(tools=[lookup], llm=llm, output_cls=Population)

    output, _ = await run_collecting(agent, user_msg="Lyon?")

    assert output.structured_response == Population(city="Lyon", people=522000)
    first = sent_json(route.calls[0].request)
    assert "response_format" not in first  # the schema is in the prompt instead
    assert '"people":{"title":"People","type":"integer"}' in first["messages"][0]["content"]
    assert "people" in sent_messages(route, 1)[-1]["content"]  # the validation error


async def test_a_denied_action_is_the_observation(api: respx.MockRouter, llm: OpenAI) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            text_reply('Action: lookup\nAction Input: {"city": "Nice"}'),
            text_reply("Answer: I was not allowed to look."),
        ]
    )
    handler = ReActAgent(tools=[lookup], llm=llm, approval=["lookup"]).run(user_msg="Nice?")
    async for ev in handler.stream_events():
        if isinstance(ev, ToolApprovalRequired):
            assert (ev.tool_name, ev.arguments) == ("lookup", {"city": "Nice"})
            handler.ctx.send_event(
                ToolApprovalResponse(call_id=ev.call_id, approved=False, reason="private")
            )
    output = await handler

    assert output.tool_calls[0].is_error
    observation = sent_messages(route, 1)[-1]["content"]
    assert observation == (
        "Observation: Error: the user did not approve running tool 'lookup': private"
    )


async def test_max_iterations_applies(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(
        return_value=text_reply('Action: lookup\nAction Input: {"city": "Nice"}')
    )
    with pytest.raises(MaxIterationsError, match="max_iterations=2"):
        await ReActAgent(tools=[lookup], llm=llm, max_iterations=2).run(user_msg="Nice?")


async def test_the_same_ctx_continues_the_conversation(api: respx.MockRouter, llm: OpenAI) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[text_reply("Answer: Hello Ada."), text_reply("Answer: You are Ada.")]
    )
    agent = ReActAgent(llm=llm)
    first = agent.run(user_msg="I am Ada.")
    await first
    second, _ = await run_collecting(agent, ctx=first.ctx, user_msg="Who am I?")

    assert second.response.text == "You are Ada."
    contents = [m["content"] for m in sent_messages(route, 1)[1:]]
    assert contents == ["I am Ada.", "Answer: Hello Ada.", "Who am I?"]
    assert "Tools:" not in sent_messages(route, 1)[0]["content"]  # no tools, no tool section


async def test_call_ids_stay_unique_across_runs_on_one_ctx(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    """A late or repeated approval of the first run's call must not match the second run's
    call, so the ids differ across the conversation, as OpenAI's do."""
    api.post("/chat/completions").mock(
        side_effect=[
            text_reply('Action: lookup\nAction Input: {"city": "Nice"}'),
            text_reply("Answer: 342,000"),
            text_reply('Action: lookup\nAction Input: {"city": "Lyon"}'),
            text_reply("Answer: 522,000"),
        ]
    )
    agent = ReActAgent(tools=[lookup], llm=llm, approval=["lookup"])
    ctx: Context[Any] = Context(agent)
    asked: list[str] = []
    outputs = []
    for question in ("Nice?", "Lyon?"):
        handler = agent.run(ctx=ctx, user_msg=question)
        async for ev in handler.stream_events():
            if isinstance(ev, ToolApprovalRequired):
                asked.append(ev.call_id)
                handler.ctx.send_event(ToolApprovalResponse(call_id=ev.call_id, approved=True))
        outputs.append(await handler)

    assert [o.tool_calls[0].content for o in outputs] == ["342,000", "522,000"]
    assert [o.tool_calls[0].call_id for o in outputs] == asked
    assert len(set(asked)) == 2


class Concluding(ReActAgent):
    answer_on_max_iterations = True


async def test_answer_on_max_iterations_sends_no_tool_choice_without_tools(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    route = api.post("/chat/completions").mock(
        side_effect=[
            text_reply('Action: lookup\nAction Input: {"city": "Nice"}'),
            text_reply("Answer: Nice has 342,000 people."),
        ]
    )
    output = await Concluding(tools=[lookup], llm=llm, max_iterations=1).run(user_msg="Nice?")

    assert output.response.text == "Nice has 342,000 people."
    last = sent_json(route.calls.last.request)
    assert "tools" not in last
    assert "tool_choice" not in last  # the API refuses tool_choice without tools


async def test_answer_on_max_iterations_runs_no_action_in_the_last_reply(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    asked: list[str] = []

    def census(city: str) -> str:
        """Population of a city."""
        asked.append(city)
        return "many"

    api.post("/chat/completions").mock(
        side_effect=[
            text_reply('Action: census\nAction Input: {"city": "Nice"}'),
            text_reply('Action: census\nAction Input: {"city": "Lyon"}'),
        ]
    )
    agent = Concluding(tools=[census], llm=llm, max_iterations=1)

    with pytest.raises(MaxIterationsError) as raised:
        await agent.run(user_msg="Nice and Lyon?")

    assert asked == ["Nice"]  # on main the last reply's action ran, then the run stopped
    assert not any("tool_choice" in note for note in raised.value.__notes__)  # none was sent


@tool
def fetch(page: int) -> str:
    """One page of a long document."""
    return "lorem ipsum " * 200


async def test_a_tight_memory_keeps_the_question_behind_a_long_observation(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    from agents.memory import ChatMemory

    route = api.post("/chat/completions").mock(
        side_effect=[
            text_reply("Answer: Hello."),
            text_reply('Action: fetch\nAction Input: {"page": 1}'),
            text_reply("Answer: It is filler text."),
        ]
    )
    agent = ReActAgent(tools=[fetch], llm=llm, memory=ChatMemory(token_limit=500, llm=llm))
    ctx: Context[Any] = Context(agent)
    await agent.run(ctx=ctx, user_msg="Hi")
    await agent.run(ctx=ctx, user_msg="Summarise page 1")

    sent = sent_messages(route, 2)
    assert [(m["role"], m["content"][:16]) for m in sent[1:]] == [
        ("user", "Summarise page 1"),
        ("assistant", "Action: fetch\nAc"),
        ("user", "Observation: lor"),
    ]  # the earlier turn is trimmed; the question and its action are not
