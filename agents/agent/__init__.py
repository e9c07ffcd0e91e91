"""Prebuilt agents as subclassable agentflow workflows, and the events they stream.

| module | holds |
|---|---|
| `agents.agent.function_agent` | `FunctionAgent`: the tool-calling loop as steps |
| `agents.agent.events` | the events on the stream, `AgentOutput` |
| `agents.agent.run_state` | `AgentRunState`: one run's counters, kept in the context |
| `agents.agent.errors` | `AgentError`, `MaxIterationsError` |
"""

from agents.agent.errors import AgentError, MaxIterationsError
from agents.agent.events import (
    AgentFinish,
    AgentInput,
    AgentOutput,
    AgentReply,
    AgentStart,
    AgentStream,
    ToolApprovalRequired,
    ToolApprovalResponse,
    ToolCall,
    ToolCallResult,
)
from agents.agent.function_agent import FunctionAgent
from agents.agent.run_state import AgentRunState

__all__ = [
    "AgentError",
    "AgentFinish",
    "AgentInput",
    "AgentOutput",
    "AgentReply",
    "AgentRunState",
    "AgentStart",
    "AgentStream",
    "FunctionAgent",
    "MaxIterationsError",
    "ToolApprovalRequired",
    "ToolApprovalResponse",
    "ToolCall",
    "ToolCallResult",
]
