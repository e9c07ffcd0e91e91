"""`Context`: what steps share within a run, and what survives between runs.

The serializers are exported here too, as `workflows.context` exports them, but loaded
only when first asked for: most programs never save a context.
"""

from typing import TYPE_CHECKING, Any

from agentflow.context.context import Context, ContextPhase
from agentflow.context.state_store import DictState, InMemoryStateStore

if TYPE_CHECKING:
    from agentflow.context.serializers import BaseSerializer, JsonSerializer, PickleSerializer

__all__ = [
    "BaseSerializer",
    "Context",
    "ContextPhase",
    "DictState",
    "InMemoryStateStore",
    "JsonSerializer",
    "PickleSerializer",
]

_SERIALIZERS = frozenset({"BaseSerializer", "JsonSerializer", "PickleSerializer"})


def __getattr__(name: str) -> Any:
    if name in _SERIALIZERS:
        from agentflow.context import serializers

        return getattr(serializers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
