"""A run's resumable state, as `Context.to_dict` writes it and `Context.from_dict` reads it.

Everything a run needs to go on in another process: the events waiting for a step, the
events steps were handling (those steps run again from their start), the answers their
`wait_for_event` calls had already received (returned at once on the re-run), events no
one had taken yet, `collect_events` buffers, the `@catch_error` budget used, and the
stream: how many events were consumed, the ones not consumed yet, and the questions
(InputRequiredEvents) still unanswered. A step that was waiting is not saved as a waiter:
it runs again on resume, and its `wait_for_event` call registers the waiter anew (or
returns the answer it already had).

This module holds the data only; `agentflow.context.saved_run` writes it as text and reads
it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentflow.events import Event


@dataclass(slots=True)
class InProgress:
    """A step execution under way when the snapshot was taken."""

    step: str
    """The step's name."""
    event: Event
    """The event it was handling; the step runs again on it."""
    execution: int | None
    """Its execution number, which default `waiter_id`s are made from."""
    answered: dict[str, Event] = field(default_factory=dict)
    """Events its `wait_for_event` calls had received, by waiter_id."""
    collected: list[list[Event] | None] = field(default_factory=list)
    """What its `collect_events` calls had returned, in call order."""


@dataclass(slots=True)
class RunSnapshot:
    """One run's resumable state; see the module docstring."""

    queued: list[tuple[str, Event]] = field(default_factory=list)
    in_progress: list[InProgress] = field(default_factory=list)
    unclaimed: list[Event] = field(default_factory=list)
    collected: dict[str, list[Event]] = field(default_factory=dict)
    recoveries: dict[str, int] = field(default_factory=dict)
    next_execution: int = 0
    stream_position: int = 0
    """How many streamed events the consumer had taken."""
    unconsumed: list[Event] = field(default_factory=list)
    """Events streamed first on resume: unanswered questions the consumer had already
    taken, then the events it had not taken yet."""
    open_questions: list[int] = field(default_factory=list)
    """Positions in `unconsumed` of the InputRequiredEvents that steps returned and no
    HumanResponseEvent has answered yet, oldest first."""
