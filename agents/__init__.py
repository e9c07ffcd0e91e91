"""LLM clients and prebuilt, subclassable workflows built on agentflow.

`import agents` loads nothing else: `agents.FunctionAgent` and the agent events load the
engine, the tools and the LLM layer on first access.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.agent import (
        AgentInput,
        AgentOutput,
        AgentStream,
        FunctionAgent,
        MaxIterationsError,
        ToolApprovalRequired,
        ToolApprovalResponse,
        ToolCall,
        ToolCallResult,
    )

__all__ = [
    "AgentInput",
    "AgentOutput",
    "AgentStream",
    "FunctionAgent",
    "MaxIterationsError",
    "ToolApprovalRequired",
    "ToolApprovalResponse",
    "ToolCall",
    "ToolCallResult",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("agents.agent"), name)
    raise AttributeError(f"module 'agents' has no attribute {name!r}")
