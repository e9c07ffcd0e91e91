"""A function-calling agent that streams its answer and shows each tool call.

    OPENAI_API_KEY=sk-... python examples/function_agent.py "What is 17.5% of 2,340?"
    OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_MODEL=qwen2.5 python examples/function_agent.py

Works with OpenAI or any OpenAI-compatible server (vLLM, Ollama, LM Studio...): set
`OPENAI_API_KEY`, `OPENAI_BASE_URL`, or both; `OPENAI_MODEL` picks the model (default
gpt-4o-mini); a slow server gets more time with `--llm-timeout SECONDS` (or
`OPENAI_TIMEOUT`). The agent is an agentflow workflow: the stream shows the reply as it is
written (`AgentStream`) and every tool call (`ToolCall`, `ToolCallResult`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date

from agents import AgentOutput, AgentStream, FunctionAgent, ToolCall, ToolCallResult
from agents.agent import AgentError
from agents.llm import LLM
from tools.builtin.calculator import calculator

DEFAULT_QUESTION = "How many days are left until the end of this year, and what is 17.5% of 2340?"


def today() -> str:
    """Today's date, ISO formatted (YYYY-MM-DD)."""
    return date.today().isoformat()


async def main(llm: LLM, question: str = DEFAULT_QUESTION) -> AgentOutput:
    """Ask `question`, printing the answer as it streams and each tool call as it runs."""
    agent = FunctionAgent(
        tools=[calculator, today],
        llm=llm,
        system_prompt="Use the tools for dates and arithmetic. Answer in one or two sentences.",
    )
    handler = agent.run(user_msg=question)
    async for ev in handler.stream_events():
        if isinstance(ev, AgentStream):
            print(ev.delta, end="", flush=True)
        elif isinstance(ev, ToolCall):
            print(f"-> {ev.tool_name}({ev.raw_arguments})")
        elif isinstance(ev, ToolCallResult):
            print(f"<- {ev.tool_name}: {ev.content}")
    output = await handler
    assert isinstance(output, AgentOutput)
    calls = len(output.tool_calls)
    print(f"\n[{output.usage.total_tokens} tokens, {calls} tool call{'' if calls == 1 else 's'}]")
    return output


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

    parser = argparse.ArgumentParser(description="Ask an agent that has tools a question.")
    parser.add_argument("question", nargs="*", help="default: a date and arithmetic question")
    add_llm_timeout_option(parser)
    args = parser.parse_args(argv)
    try:
        llm = OpenAI.from_env(timeout=args.llm_timeout)
    except LLMConfigurationError as error:
        print(f"examples/function_agent.py needs a model server: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(main(llm, " ".join(args.question) or DEFAULT_QUESTION))
    # openai.APIError: the SDK's own (server down, bad key); WorkflowTimeoutError: the run's.
    except (AgentError, LLMError, openai.APIError, WorkflowTimeoutError) as error:
        print(f"examples/function_agent.py: {one_line_with_notes(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
