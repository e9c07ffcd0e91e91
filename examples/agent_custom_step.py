"""Change one step of an agent: tool calls answered from a cache.

    OPENAI_API_KEY=sk-... python examples/agent_custom_step.py
    OPENAI_BASE_URL=http://localhost:11434/v1 python examples/agent_custom_step.py

`FunctionAgent`'s loop is a workflow of documented steps (`setup`, `call_llm`,
`handle_reply`, `run_tool_call`, `aggregate_tool_results`, `finalize`). Within one run the
agent already answers a repeated call (same tool, same arguments) with the earlier result;
`CachingAgent` overrides only `run_tool_call` to do so across the runs of a conversation. Its
cache is a field of the context's typed state (`CachingState`, the agent's `AgentState` with
one more field: the step's `Context[CachingState]` makes it the state of the whole agent),
so it lasts as long as the conversation and is saved with the context. The example asks two
questions on one context; the second needs the exchange rate the first already fetched.
Works with OpenAI or any OpenAI-compatible server; a slow one gets more time with
`--llm-timeout SECONDS` (or `OPENAI_TIMEOUT`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from pydantic import Field

from agentflow import Context, step
from agents import AgentOutput, FunctionAgent, ToolCall, ToolCallResult
from agents.agent import AgentError, AgentState
from agents.llm import LLM

QUESTIONS = [
    "How many US dollars is 120 EUR?",
    "And how many US dollars is 75 EUR?",
]

RATES = {("EUR", "USD"): 1.08, ("USD", "EUR"): 0.93}
lookups: list[tuple[str, str]] = []
"""Every rate actually fetched, to show which calls the cache answered."""


async def exchange_rate(base: str, quote: str) -> float:
    """How many units of `quote` one unit of `base` buys.

    Args:
        base: ISO code of the currency to convert from, e.g. EUR.
        quote: ISO code of the currency to convert to, e.g. USD.
    """
    lookups.append((base, quote))
    return RATES[(base.upper(), quote.upper())]


def multiply(a: float, b: float) -> float:
    """a times b, to six decimal places."""
    return round(a * b, 6)


class CachingState(AgentState):
    """The agent's context state, with the cache the overridden step keeps."""

    tool_cache: dict[str, str] = Field(default_factory=dict)
    """`"tool(arguments)"` -> the result the model read."""


class CachingAgent(FunctionAgent):
    """A `FunctionAgent` that runs each distinct tool call once per conversation."""

    @step(num_workers=8)
    async def run_tool_call(self, ctx: Context[CachingState], ev: ToolCall) -> ToolCallResult:
        """Answer from the cache when the same call ran before; otherwise run the tool as
        usual and keep a successful result."""
        key = f"{ev.tool_name}({json.dumps(ev.arguments, sort_keys=True)})"
        async with ctx.store.edit_state() as state:
            cached = state.tool_cache.get(key)
        if cached is None:
            result = await super().run_tool_call(ctx, ev)
            if not result.is_error:
                async with ctx.store.edit_state() as state:
                    state.tool_cache[key] = result.content
            return result
        result = ToolCallResult(
            call_id=ev.call_id,
            tool_name=ev.tool_name,
            arguments=ev.arguments,
            content=cached,
            index=ev.index,
            agent_name=self.name,
        )
        ctx.write_event_to_stream(result)
        return result


async def main(llm: LLM, questions: list[str] = QUESTIONS) -> list[AgentOutput]:
    """Ask each question on one context, printing the answers and what the tools did."""
    agent = CachingAgent(
        tools=[exchange_rate, multiply],
        llm=llm,
        system_prompt="Use the tools for rates and arithmetic. Answer in one sentence.",
    )
    ctx: Context[Any] | None = None
    outputs = []
    for question in questions:
        handler = agent.run(user_msg=question, ctx=ctx)
        output = await handler
        assert isinstance(output, AgentOutput)
        ctx = handler.ctx
        print(f"> {question}\n{output.response.text}")
        outputs.append(output)
    print(f"[rates fetched: {len(lookups)}; the other lookups came from the cache]")
    return outputs


def cli(argv: list[str]) -> int:
    """Run `main` with the model the environment names; 2 when no server is configured, 1
    when the run ends in an error, said in one line on stderr: the server failed or did not
    answer in time, the model refused, or the agent gave up (`MaxIterationsError`, ...)."""
    import openai

    from agentflow.errors import WorkflowTimeoutError
    from agents.llm import (
        LLMConfigurationError,
        LLMError,
        OpenAI,
        add_llm_timeout_option,
        one_line_with_notes,
    )

    parser = argparse.ArgumentParser(description="Two questions to an agent with a tool cache.")
    add_llm_timeout_option(parser)
    args = parser.parse_args(argv)
    try:
        llm = OpenAI.from_env(timeout=args.llm_timeout)
    except LLMConfigurationError as error:
        print(f"examples/agent_custom_step.py needs a model server: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(main(llm))
    # openai.APIError: the SDK's own (server down, bad key); WorkflowTimeoutError: the run's.
    except (AgentError, LLMError, openai.APIError, WorkflowTimeoutError) as error:
        print(f"examples/agent_custom_step.py: {one_line_with_notes(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
