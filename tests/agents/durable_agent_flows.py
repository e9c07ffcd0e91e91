"""A durable `FunctionAgent` that a test starts in a child process, kills with SIGKILL and
resumes in another. Its LLM is answered at the wire inside the child (respx): the first
request asks for three weather calls at once, the one after their results gets the answer.
Every request the wire answers, every tool run and every tool result the agent's collector
receives appends a line to the side-effect log and prints it, so the test can kill the
child after a given line and check from the log what ran twice.

    python durable_agent_flows.py start|resume STORE_URL LOG_PATH RUN_ID

On start, the call for Lima hangs (it is running at the kill); on resume it answers.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import httpx
from durable_agent_runs import ToolModel
from llm_wire import BASE_URL
from wire_mock import mock_wire

from agentflow import Context, step
from agentflow.context import DictState
from agentflow.stores import open_store
from agents import FunctionAgent, ToolCallResult
from agents.agent import AgentFinish, AgentInput
from agents.llm.openai.client import OpenAI
from tools import tool

LOG: list[str] = []
HANGING: list[str] = []
CALLS = [
    ("c1", "weather", '{"city": "Oslo"}'),
    ("c2", "weather", '{"city": "Rome"}'),
    ("c3", "weather", '{"city": "Lima"}'),
]


def did(line: str) -> None:
    """Note a side effect in the log and on stdout, where the test reads it."""
    with open(LOG[0], "a", encoding="utf-8") as log:
        log.write(line + "\n")
    print(line, flush=True)


async def weather(city: str) -> str:
    """The weather in a city."""
    if city in HANGING:
        await asyncio.Event().wait()  # killed here by the test
    did(f"tool:{city}")
    return f"{city}: {len(city)}C"


class LoggingAgent(FunctionAgent):
    """Logs each tool result its collector receives: a result is routed only once the
    execution that made it is journalled, so a logged result's tool call is durable."""

    @step(num_workers=1)
    async def aggregate_tool_results(
        self, ctx: Context[DictState], ev: ToolCallResult
    ) -> AgentInput | AgentFinish | None:
        did(f"collected:{ev.call_id}")
        return await super().aggregate_tool_results(ctx, ev)


async def main(command: str, url: str, log: str, run_id: str) -> None:
    LOG.append(log)
    if command == "start":
        HANGING.append("Lima")
    model = ToolModel(CALLS)

    def answer(request: httpx.Request) -> httpx.Response:
        response = model(request)
        did(f"llm:{model.requests[-1]}")
        return response

    llm = OpenAI("gpt-4o-mini", api_key="sk-test", base_url=BASE_URL)
    with mock_wire(base_url=BASE_URL) as api:
        api.post("/chat/completions").mock(side_effect=answer)
        async with open_store(url) as store:
            agent = LoggingAgent(tools=[tool(weather)], llm=llm, store=store, timeout=None)
            if command == "start":
                output: Any = await agent.run(user_msg="Weather in three cities?", run_id=run_id)
            else:
                output = await (await agent.resume(run_id))
    print(f"result:{output.response.text}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
