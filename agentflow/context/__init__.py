"""`Context`: what steps share within a run, and what survives between runs."""

from agentflow.context.context import Context, ContextPhase
from agentflow.context.state_store import DictState, InMemoryStateStore

__all__ = ["Context", "ContextPhase", "DictState", "InMemoryStateStore"]
