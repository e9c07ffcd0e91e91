"""`run_end`: what a durable run's end writes, from its outcome: the terminal status, the
result (or error) the store records, and the terminal event, its stream's last entry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentflow.errors import ContextSerdeError, WorkflowCancelledByUser
from agentflow.events import StopEvent

if TYPE_CHECKING:
    from agentflow.context.serializers import BaseSerializer
    from agentflow.runtime.outcome import Outcome
    from agentflow.stores.base import RunStatus


@dataclass(frozen=True, slots=True)
class RunEnd:
    """The end of a run as its store keeps it."""

    status: RunStatus
    result: str
    """JSON text: `{"result": ...}`, `{"error": {type, message}}` or `{}` (cancelled)."""
    terminal: str
    """The terminal event as the serializer writes it."""


def run_end(outcome: Outcome, serializer: BaseSerializer) -> RunEnd:
    """The end `outcome` gives; a result the serializer cannot write is recorded as null
    and left out of the terminal StopEvent (the run still completes: its result is for its
    caller, the store only records it)."""
    status: RunStatus
    result: dict[str, Any]
    if outcome.stop is not None:
        status, result = "completed", {"result": _text(serializer, outcome.stop.result)}
    elif isinstance(outcome.error, WorkflowCancelledByUser):
        status, result = "cancelled", {}
    else:
        error = outcome.error
        status = "failed"
        result = {"error": {"type": type(error).__qualname__, "message": str(error)}}
    terminal = _text(serializer, outcome.terminal) or serializer.serialize(StopEvent(), "stop")
    return RunEnd(status, json.dumps(result), terminal)


def _text(serializer: BaseSerializer, value: Any) -> str | None:
    try:
        return serializer.serialize(value, "the run's end")
    except ContextSerdeError:
        return None
