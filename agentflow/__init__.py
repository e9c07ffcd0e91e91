"""agentflow: event-driven async workflows. `Workflow`, `@step` and `Context` are the API;
events live in `agentflow.events`, errors in `agentflow.errors`."""

from agentflow.context import Context
from agentflow.decorators import step
from agentflow.workflow import Workflow

__all__ = ["Context", "Workflow", "step"]
