"""Programs written for LlamaIndex's agents (`llama_index.core.agent.workflow`), with a
LlamaIndex LLM speaking OpenAI's wire (`WireOpenAI`, in the place of
llama-index-llms-openai's `OpenAI`: see llamaindex_wire_llm.py) and LlamaIndex tools and
messages; test_llamaindex_agents_compat.py runs each on LlamaIndex itself and again with
the agent and workflow imports renamed to agentflow's (`agents`, `agentflow`), the LLM's
HTTP mocked at the wire.

Each program defines `async def main(api_base)`, whose return value is the program's
outcome, read from the streamed events' and the output's LlamaIndex fields. `PROGRAMS` maps
a program to the replies its LLM gets (made afresh for each run: a response is read once)
and to that outcome, the same on both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from llm_wire import calls_reply, text_reply

FUNCTION_AGENT_TWO_TOOLS = """
from llama_index.core.agent.workflow import (
    AgentOutput, AgentStream, FunctionAgent, ToolCall, ToolCallResult,
)
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool
from llamaindex_wire_llm import WireOpenAI as OpenAI

def multiply(a: int, b: int) -> int:
    \"\"\"Multiply two numbers.\"\"\"
    return a * b

async def add(a: int, b: int) -> int:
    \"\"\"Add two numbers.\"\"\"
    return a + b

async def main(api_base):
    llm = OpenAI(model="gpt-4o-mini", api_key="sk-test", api_base=api_base)
    agent = FunctionAgent(
        name="calculator",
        description="Does arithmetic.",
        tools=[multiply, FunctionTool.from_defaults(fn=add)],
        llm=llm,
        system_prompt="You calculate.",
    )
    history = [
        ChatMessage(role="user", content="Hi"),
        ChatMessage(role="assistant", content="Hello"),
    ]
    handler = agent.run(user_msg="What is (2 * 3) + 4?", chat_history=history)
    events, text, last = [], "", None
    async for ev in handler.stream_events():
        if isinstance(ev, ToolCallResult):
            output = ev.tool_output
            events.append(("result", ev.tool_name, ev.tool_kwargs, ev.tool_id, str(output),
                           output.is_error, ev.return_direct))
        elif isinstance(ev, ToolCall):
            events.append(("call", ev.tool_name, ev.tool_kwargs, ev.tool_id))
        elif isinstance(ev, AgentStream):
            text += ev.delta
            last = (ev.response, ev.current_agent_name)
    output = await handler
    assert isinstance(output, AgentOutput)
    calls = [(call.tool_name, call.tool_kwargs, call.tool_id) for call in output.tool_calls]
    return events, text, last, str(output), output.current_agent_name, calls
"""


def function_agent_replies() -> list[httpx.Response]:
    return [
        calls_reply(("call_m", "multiply", '{"a": 2, "b": 3}')),
        calls_reply(("call_a", "add", '{"a": 6, "b": 4}')),
        text_reply("(2 * 3) + 4 ", "is 10."),
    ]


FUNCTION_AGENT_OUTCOME = (
    [
        ("call", "multiply", {"a": 2, "b": 3}, "call_m"),
        ("result", "multiply", {"a": 2, "b": 3}, "call_m", "6", False, False),
        ("call", "add", {"a": 6, "b": 4}, "call_a"),
        ("result", "add", {"a": 6, "b": 4}, "call_a", "10", False, False),
    ],
    "(2 * 3) + 4 is 10.",
    ("(2 * 3) + 4 is 10.", "calculator"),
    "(2 * 3) + 4 is 10.",
    "calculator",
    [("multiply", {"a": 2, "b": 3}, "call_m"), ("add", {"a": 6, "b": 4}, "call_a")],
)

AGENT_WORKFLOW_HANDOFF = """
from llama_index.core.agent.workflow import (
    AgentStream, AgentWorkflow, FunctionAgent, ToolCall, ToolCallResult,
)
from llama_index.core.workflow import Context
from llamaindex_wire_llm import WireOpenAI as OpenAI

async def multiply(ctx: Context, a: int, b: int) -> int:
    \"\"\"Multiply two numbers and note the product in the shared state.\"\"\"
    state = await ctx.store.get("state")
    state["products"].append(a * b)
    await ctx.store.set("state", state)
    return a * b

async def main(api_base):
    llm = OpenAI(model="gpt-4o-mini", api_key="sk-test", api_base=api_base)
    triage = FunctionAgent(
        name="triage",
        description="Routes requests to the right agent.",
        system_prompt="You route requests.",
        llm=llm,
        can_handoff_to=["math"],
    )
    math = FunctionAgent(
        name="math",
        description="Does arithmetic.",
        system_prompt="You calculate.",
        tools=[multiply],
        llm=llm,
        can_handoff_to=[],
    )
    workflow = AgentWorkflow(
        agents=[triage, math], root_agent="triage", initial_state={"products": []}
    )
    handler = workflow.run(user_msg="What is 6 times 7?")
    calls, results, speakers = [], [], []
    async for ev in handler.stream_events():
        if isinstance(ev, ToolCallResult):
            results.append((ev.tool_name, ev.tool_kwargs, ev.tool_id, ev.tool_output.is_error))
        elif isinstance(ev, ToolCall):
            calls.append((ev.tool_name, ev.tool_kwargs, ev.tool_id))
        elif isinstance(ev, AgentStream) and ev.delta and ev.current_agent_name not in speakers:
            speakers.append(ev.current_agent_name)
    output = await handler
    state = await handler.ctx.store.get("state")
    return calls, results, speakers, str(output), output.current_agent_name, state
"""


def handoff_replies() -> list[httpx.Response]:
    return [
        calls_reply(("call_h", "handoff", '{"to_agent": "math", "reason": "It is arithmetic."}')),
        calls_reply(("call_m", "multiply", '{"a": 6, "b": 7}')),
        text_reply("6 times 7 ", "is 42."),
    ]


HANDOFF_OUTCOME = (
    [
        ("handoff", {"to_agent": "math", "reason": "It is arithmetic."}, "call_h"),
        ("multiply", {"a": 6, "b": 7}, "call_m"),
    ],
    [
        ("handoff", {"to_agent": "math", "reason": "It is arithmetic."}, "call_h", False),
        ("multiply", {"a": 6, "b": 7}, "call_m", False),
    ],
    ["math"],
    "6 times 7 is 42.",
    "math",
    {"products": [42]},
)

REACT_AGENT = """
from llama_index.core.agent.workflow import AgentStream, ReActAgent, ToolCall, ToolCallResult
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.llms import ChatMessage
from llamaindex_wire_llm import WireOpenAI as OpenAI

def multiply(a: int, b: int) -> int:
    \"\"\"Multiply two numbers.\"\"\"
    return a * b

async def main(api_base):
    llm = OpenAI(model="gpt-4o-mini", api_key="sk-test", api_base=api_base)
    agent = ReActAgent(name="reasoner", tools=[multiply], llm=llm)
    memory = ChatMemoryBuffer.from_defaults(
        token_limit=4000, chat_history=[ChatMessage(role="user", content="I am Ada.")]
    )
    handler = agent.run("What is 2 times 3?", memory=memory)
    events, speakers = [], set()
    async for ev in handler.stream_events():
        if isinstance(ev, ToolCallResult):
            events.append(("result", ev.tool_name, ev.tool_kwargs, str(ev.tool_output),
                           ev.tool_id != ""))
        elif isinstance(ev, ToolCall):
            events.append(("call", ev.tool_name, ev.tool_kwargs, ev.tool_id != ""))
        elif isinstance(ev, AgentStream):
            speakers.add(ev.current_agent_name)
    output = await handler
    return events, speakers, str(output), output.current_agent_name
"""


def react_replies() -> list[httpx.Response]:
    return [
        text_reply(
            "Thought: I need to multiply.\n", 'Action: multiply\nAction Input: {"a": 2, "b": 3}'
        ),
        text_reply(
            "Thought: I can answer without using any more tools.\n", "Answer: 2 times 3 is 6."
        ),
    ]


REACT_OUTCOME = (
    [
        ("call", "multiply", {"a": 2, "b": 3}, True),
        ("result", "multiply", {"a": 2, "b": 3}, "6", True),
    ],
    {"reasoner"},
    "2 times 3 is 6.",
    "reasoner",
)

FROM_TOOLS_OR_FUNCTIONS = """
from llama_index.core.agent.workflow import AgentWorkflow, ToolCallResult
from llamaindex_wire_llm import WireOpenAI as OpenAI

def multiply(a: int, b: int) -> int:
    \"\"\"Multiply two numbers.\"\"\"
    return a * b

async def main(api_base):
    llm = OpenAI(model="gpt-4o-mini", api_key="sk-test", api_base=api_base)
    workflow = AgentWorkflow.from_tools_or_functions(
        [multiply], llm=llm, system_prompt="You calculate.", initial_state={"unit": "cm"}
    )
    handler = workflow.run(user_msg="What is 4 times 5?")
    results = [
        (ev.tool_name, str(ev.tool_output))
        async for ev in handler.stream_events()
        if isinstance(ev, ToolCallResult)
    ]
    output = await handler
    return results, str(output), output.current_agent_name, await handler.ctx.store.get("state")
"""


def from_tools_replies() -> list[httpx.Response]:
    return [
        calls_reply(("call_m", "multiply", '{"a": 4, "b": 5}')),
        text_reply("4 times 5 is 20."),
    ]


FROM_TOOLS_OUTCOME = ([("multiply", "20")], "4 times 5 is 20.", "Agent", {"unit": "cm"})

PROGRAMS: dict[str, tuple[str, Callable[[], list[httpx.Response]], Any]] = {
    "FunctionAgent with two tools": (
        FUNCTION_AGENT_TWO_TOOLS,
        function_agent_replies,
        FUNCTION_AGENT_OUTCOME,
    ),
    "AgentWorkflow with a handoff": (AGENT_WORKFLOW_HANDOFF, handoff_replies, HANDOFF_OUTCOME),
    "ReActAgent": (REACT_AGENT, react_replies, REACT_OUTCOME),
    "AgentWorkflow.from_tools_or_functions": (
        FROM_TOOLS_OR_FUNCTIONS,
        from_tools_replies,
        FROM_TOOLS_OUTCOME,
    ),
}
