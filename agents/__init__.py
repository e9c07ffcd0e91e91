"""LLM clients and prebuilt, subclassable workflows built on agentflow.

`import agents` loads nothing else: the agents (`FunctionAgent`, `ReActAgent`,
`AgentWorkflow`) and their events load the engine, the tools and the LLM layer on first
access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.agent import (
        AgentHandoff,
        AgentInput,
        AgentOutput,
        AgentStream,
        AgentWorkflow,
        FunctionAgent,
        MaxIterationsError,
        ReActAgent,
        RepeatedToolCallError,
        ToolApprovalRequired,
        ToolApprovalResponse,
        ToolCall,
        ToolCallResult,
    )

__all__ = [
    "AgentHandoff",
    "AgentInput",
    "AgentOutput",
    "AgentStream",
    "AgentWorkflow",
    "FunctionAgent",
    "MaxIterationsError",
    "ReActAgent",
    "RepeatedToolCallError",
    "ToolApprovalRequired",
    "ToolApprovalResponse",
    "ToolCall",
    "ToolCallResult",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("agents.agent"), name)
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
