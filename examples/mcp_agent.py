"""A function-calling agent whose tools come from an MCP server, started over stdio.

    OPENAI_API_KEY=sk-... python examples/mcp_agent.py "Note that the demo is on Friday."
    OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_MODEL=qwen2.5 python examples/mcp_agent.py

The server is `examples/mcp_notes_server.py` (notes in a JSON file, written with the `mcp`
SDK); `MCPToolSet.stdio` starts it, lists its tools (prefixed `notes_`) and stops it when
the `async with` block ends, however the run ended. Any OpenAI-compatible server works: set
`OPENAI_API_KEY`, `OPENAI_BASE_URL`, or both; `OPENAI_MODEL` picks the model. Needs the
`[mcp]` extra.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from agents import AgentOutput, FunctionAgent, ToolCall, ToolCallResult
from agents.agent import AgentError
from agents.llm import LLM
from tools.mcp import MCPToolSet

NOTES_SERVER = Path(__file__).with_name("mcp_notes_server.py")
DEFAULT_REQUEST = "Which notes do I have? Then add one titled 'demo' saying it is on Friday."


async def main(llm: LLM, request: str = DEFAULT_REQUEST, notes_file: str | None = None) -> str:
    """Run `request` with the notes server's tools, printing each tool call; the answer."""
    env = {"NOTES_FILE": notes_file} if notes_file else None
    notes = MCPToolSet.stdio(sys.executable, [str(NOTES_SERVER)], env=env, prefix="notes_")
    async with notes:
        agent = FunctionAgent(
            tools=notes.tools,
            llm=llm,
            system_prompt="You keep the user's notes with the notes tools. Be brief.",
        )
        handler = agent.run(user_msg=request)
        async for ev in handler.stream_events():
            if isinstance(ev, ToolCall):
                print(f"-> {ev.tool_name}({ev.raw_arguments})")
            elif isinstance(ev, ToolCallResult):
                print(f"<- {ev.tool_name}: {ev.content}")
        output = await handler
    assert isinstance(output, AgentOutput)
    print(output.response.text)
    return output.response.text


def cli(argv: list[str]) -> int:
    """Run `main` with the model the environment names; 2 when no server is configured, 1
    when the run ends in an error (said in one line on stderr)."""
    import openai

    from agentflow.errors import WorkflowTimeoutError
    from agents.llm import (
        LLMConfigurationError,
        LLMError,
        OpenAI,
        add_llm_timeout_option,
        one_line_with_notes,
    )
    from tools.errors import MCPConnectionError

    parser = argparse.ArgumentParser(description="Ask an agent with an MCP server's tools.")
    parser.add_argument("request", nargs="*", help="default: list the notes, then add one")
    parser.add_argument("--notes-file", help="where the notes live (default: beside the server)")
    add_llm_timeout_option(parser)
    args = parser.parse_args(argv)
    try:
        llm = OpenAI.from_env(timeout=args.llm_timeout)
    except LLMConfigurationError as error:
        print(f"examples/mcp_agent.py needs a model server: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(main(llm, " ".join(args.request) or DEFAULT_REQUEST, args.notes_file))
    except (
        AgentError,
        LLMError,
        openai.APIError,
        WorkflowTimeoutError,
        MCPConnectionError,
    ) as error:
        print(f"examples/mcp_agent.py: {one_line_with_notes(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
