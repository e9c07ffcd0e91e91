"""The runs a server starts, follows, answers and cancels, behind one seam (`Runner`).

The routes speak only `Runner`. The runners (`agentflow.runners`): `LocalRunner` runs every
workflow in the server's process; `DBOSRunner` enqueues them for worker processes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from agentflow.context.serializers import JsonSerializer
from agentflow.errors import (
    ContextSerdeError,
)
from agentflow.events import (
    Event,
    StartEvent,
    StopEvent,
    WorkflowCancelledEvent,
    WorkflowFailedEvent,
    WorkflowTimedOutEvent,
)
from agentflow.server.streams import RunStreams

if TYPE_CHECKING:
    from agentflow.server.registry import ServedWorkflow
    from agentflow.stores.base import RunInfo


Status = Literal["running", "completed", "failed", "cancelled"]
"""A run's status on the wire: a run waiting for an answer is `running`, as in the
reference."""


@dataclass(slots=True)
class RunView:
    """A run as the routes report it."""

    run_id: str
    workflow_name: str
    status: Status
    started_at: datetime
    updated_at: datetime
    error: str | None = None
    result: StopEvent | None = None
    """The StopEvent of a completed run."""
    result_unreadable: bool = False
    """True when the store holds a result this process cannot decode."""
    asked: list[Event] = field(default_factory=list)
    """The InputRequiredEvents the run streamed, oldest first (until it ends)."""
    answered: int = 0
    """How many events were sent into the run from outside: each answers the oldest
    question, whether the question reached the stream before the answer came or after."""

    @property
    def questions(self) -> list[Event]:
        """The questions not answered yet."""
        return self.asked[self.answered :]


class Runner(Protocol):
    """What the routes ask of the runs (see the module docstring)."""

    @property
    def events(self) -> RunStreams:
        """The runs' streams, as the event routes follow them."""

    async def start(
        self, served: ServedWorkflow, start_event: StartEvent, run_id: str | None
    ) -> RunView:
        """Start a run; 409 when `run_id` is taken."""

    async def wait(self, run_id: str) -> RunView:
        """Wait for the run to end (it must be running in this server)."""

    async def send(self, run_id: str, event: Event, step: str | None, key: str | None) -> None:
        """Send `event` into the run, returning once it is journalled; with an idempotency
        `key`, a second send with that key sends nothing and succeeds, also once the run
        has ended (while this process still knows it). 404/409 as ApiError."""

    async def cancel(self, run_id: str) -> None:
        """Cancel a running run; 404 unknown, 409 ended."""

    async def get(self, run_id: str) -> RunView | None:
        """The run, live or from the store; None when unknown."""

    def list(self) -> AsyncIterator[RunView]:
        """Every run of a served workflow, live ones first."""

    async def resume_unfinished(self) -> int:
        """Go on with the store's unfinished runs of served workflows; how many."""

    async def close(self) -> None:
        """Stop following the runs (they stay unfinished in the store)."""


def note_end(view: RunView, terminal: StopEvent) -> None:
    if isinstance(terminal, WorkflowCancelledEvent):
        view.status = "cancelled"
    elif isinstance(terminal, WorkflowTimedOutEvent):
        view.status, view.error = "failed", f"Workflow timed out after {terminal.timeout}s"
    elif isinstance(terminal, WorkflowFailedEvent):
        view.status, view.error = "failed", str(terminal.exception)
    else:
        view.status, view.result = "completed", terminal


def stored_view(info: RunInfo, name: str) -> RunView:
    """A run this process does not drive, as the store has it."""
    status: Status = "running" if info.status == "waiting" else info.status
    view = RunView(info.run_id, name, status, info.created_at, info.updated_at)
    if info.result is None:
        return view
    try:
        outcome = json.loads(info.result)
    except json.JSONDecodeError:
        outcome = None
    if not isinstance(outcome, dict):
        view.result_unreadable = True
        return view
    error = outcome.get("error")
    if error is not None:
        view.error = str(error.get("message") if isinstance(error, dict) else error)
    elif status == "completed":
        text = outcome.get("result")
        try:
            value = None if text is None else JsonSerializer().deserialize_at(text, "result")
        except ContextSerdeError:
            view.result_unreadable = True
        else:
            view.result = value if isinstance(value, StopEvent) else StopEvent(result=value)
    return view
