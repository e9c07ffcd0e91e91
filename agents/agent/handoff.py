"""The `handoff` tool an `AgentWorkflow` gives each agent that may pass the conversation on.

Its `to_agent` parameter is an enum of the agents named in `can_handoff_to`, so the model
sees exactly whom it may choose, and a call naming anyone else fails the tool's own argument
validation: the model reads that error as the tool's result and the active agent stays.
The tool only records the request in the context; `AgentWorkflow.aggregate_tool_results`
switches agents once every result of the reply is in. The calls of a reply run concurrently,
so a second `handoff` in the same reply is refused (an error result) rather than overwriting
the first: the model is never told of a handoff that does not happen.

The tool has `allow_repeats`: a handoff is a move, not a question, so handing off again to
an agent handed off to before (A to B, B to A, A to B) is made again, never answered with
the earlier result, which would tell the model of a handoff that is not made.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from agentflow import Context
from agents.agent.run_state import AgentState, HandoffRequest
from tools import FunctionTool, ToolOutput
from tools.metadata import ToolMetadata

HANDOFF_TOOL_NAME = "handoff"
"""The tool's name, as the model sees it."""
HANDOFF_PROMPT = (
    "Pass the conversation to another agent when it is better suited to the request. "
    "The agents you may hand off to:\n{agent_info}"
)
"""The tool's description; `{agent_info}` is the list of agents it may hand off to
(`AgentWorkflow(handoff_prompt=...)` replaces it)."""
HANDOFF_OUTPUT_PROMPT = "Agent '{to_agent}' now continues the conversation ({reason})."
"""The tool's result, which the model reads (`AgentWorkflow(handoff_output_prompt=...)`
replaces it)."""


def handoff_tool(
    from_agent: str,
    targets: dict[str, str | None],
    prompt: str = HANDOFF_PROMPT,
    output_prompt: str = HANDOFF_OUTPUT_PROMPT,
) -> FunctionTool:
    """The `handoff` tool of `from_agent`: `targets` maps each agent it may hand off to to
    that agent's description; the request is kept in `AgentState.handoff_request`. `prompt` (with
    `{agent_info}`) is the tool's description, `output_prompt` (with `{to_agent}` and
    `{reason}`) its result."""
    agent_names: Any = Literal[tuple(targets)]  # built at run time: the enum of targets
    arguments: type[BaseModel] = create_model(
        "HandoffArguments",
        to_agent=(agent_names, Field(description="The agent to pass the conversation to.")),
        reason=(str, Field(description="Why that agent should continue.")),
    )

    async def handoff(to_agent: str, reason: str, ctx: Context[AgentState]) -> str | ToolOutput:
        async with ctx.store.edit_state() as state:  # the check and the write as one
            pending = state.handoff_request
            if pending is not None:
                return ToolOutput(
                    HANDOFF_TOOL_NAME,
                    f"Error: agent '{from_agent}' already hands off to '{pending.to_agent}' in "
                    f"this reply; this handoff to '{to_agent}' was not made",
                    {"to_agent": to_agent, "reason": reason},
                    is_error=True,
                )
            state.handoff_request = HandoffRequest(
                from_agent=from_agent, to_agent=to_agent, reason=reason
            )
        return output_prompt.replace("{to_agent}", to_agent).replace("{reason}", reason)

    roster = "\n".join(
        f"- {name}: {description}" if description else f"- {name}"
        for name, description in targets.items()
    )
    metadata = ToolMetadata(
        name=HANDOFF_TOOL_NAME,
        description=prompt.replace("{agent_info}", roster),
        fn_schema=arguments,
        allow_repeats=True,
    )
    return FunctionTool(handoff, metadata, context_param="ctx")
