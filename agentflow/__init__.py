"""agentflow: event-driven async workflows. `Workflow`, `@step`, `@catch_error` and
`Context` are the API;
events live in `agentflow.events`, errors in `agentflow.errors`.

The names below load on first access: `import agentflow` alone (a command line, a module
that only annotates with our types) stays cheap, and the engine, asyncio and pydantic's
model machinery load when a workflow is first touched.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentflow.context import Context
    from agentflow.decorators import catch_error, step
    from agentflow.workflow import Workflow

__all__ = ["Context", "Workflow", "catch_error", "step"]

_HOMES = {
    "Context": "agentflow.context",
    "Workflow": "agentflow.workflow",
    "step": "agentflow.decorators",
    "catch_error": "agentflow.decorators",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agentflow' has no attribute '{name}'")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
