"""A run's resumable state, as `Context.to_dict` writes it and `Context.from_dict` reads it.

Everything a run needs to go on in another process: the events waiting for a step, the
events steps were handling (those steps run again from their start), the answers their
`wait_for_event` calls had already received (returned at once on the re-run), events no
one had taken yet, `collect_events` buffers, the waiters, the `@catch_error` budget used,
and the stream: how many events were consumed, the ones not consumed yet, and the
questions (InputRequiredEvents) still unanswered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentflow.context.serializers import BaseSerializer
from agentflow.errors import ContextSerdeError
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


@dataclass(slots=True)
class SavedWaiter:
    """A `wait_for_event` that was waiting; its step re-registers it when it runs again."""

    waiter_id: str
    event_type: str
    requirements: dict[str, Any]


@dataclass(slots=True)
class RunSnapshot:
    """One run's resumable state; see the module docstring."""

    queued: list[tuple[str, Event]] = field(default_factory=list)
    in_progress: list[InProgress] = field(default_factory=list)
    unclaimed: list[Event] = field(default_factory=list)
    collected: dict[str, list[Event]] = field(default_factory=dict)
    waiters: list[SavedWaiter] = field(default_factory=list)
    recoveries: dict[str, int] = field(default_factory=dict)
    next_execution: int = 0
    stream_position: int = 0
    """How many streamed events the consumer had taken."""
    unconsumed: list[Event] = field(default_factory=list)
    """Streamed events not consumed yet, streamed first on resume."""
    open_questions: list[Event] = field(default_factory=list)
    """InputRequiredEvents consumed but not answered, streamed again on resume."""

    def to_dict(self, serializer: BaseSerializer) -> dict[str, Any]:
        """A JSON-ready dict; every event and value goes through `serializer`."""

        def event(value: Event, where: str) -> str:
            return serializer.serialize(value, where)

        return {
            "queued": [
                {"step": step, "event": event(ev, f"event queued for step '{step}'")}
                for step, ev in self.queued
            ],
            "in_progress": [
                {
                    "step": item.step,
                    "event": event(item.event, f"event of running step '{item.step}'"),
                    "execution": item.execution,
                    "answered": {
                        waiter_id: event(answer, f"answer to waiter '{waiter_id}'")
                        for waiter_id, answer in item.answered.items()
                    },
                }
                for item in self.in_progress
            ],
            "unclaimed": [event(ev, "event no step had taken") for ev in self.unclaimed],
            "collected": {
                key: [event(ev, f"event collected by '{key}'") for ev in events]
                for key, events in self.collected.items()
            },
            "waiters": [
                {
                    "waiter_id": waiter.waiter_id,
                    "event_type": waiter.event_type,
                    "requirements": serializer.serialize(
                        waiter.requirements, f"requirements of waiter '{waiter.waiter_id}'"
                    ),
                }
                for waiter in self.waiters
            ],
            "recoveries": dict(self.recoveries),
            "next_execution": self.next_execution,
            "stream": {
                "position": self.stream_position,
                "unconsumed": [event(ev, "streamed event") for ev in self.unconsumed],
                "open_questions": [event(ev, "unanswered question") for ev in self.open_questions],
            },
        }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], serializer: BaseSerializer, step_names: set[str]
    ) -> RunSnapshot:
        """The snapshot `to_dict` wrote; every step it names must exist in `step_names`."""

        def event(text: str) -> Event:
            value = serializer.deserialize(text)
            if not isinstance(value, Event):
                raise ContextSerdeError(
                    f"the saved context holds a {type(value).__name__} where an event belongs"
                )
            return value

        def known(step: str) -> str:
            if step not in step_names:
                raise ContextSerdeError(
                    f"the saved context names step '{step}', which this workflow does not "
                    f"have (steps: {', '.join(sorted(step_names))})"
                )
            return step

        try:
            stream = data["stream"]
            return cls(
                queued=[(known(item["step"]), event(item["event"])) for item in data["queued"]],
                in_progress=[
                    InProgress(
                        step=known(item["step"]),
                        event=event(item["event"]),
                        execution=item["execution"],
                        answered={k: event(v) for k, v in item["answered"].items()},
                    )
                    for item in data["in_progress"]
                ],
                unclaimed=[event(text) for text in data["unclaimed"]],
                collected={
                    key: [event(text) for text in texts] for key, texts in data["collected"].items()
                },
                waiters=[
                    SavedWaiter(
                        waiter_id=item["waiter_id"],
                        event_type=item["event_type"],
                        requirements=serializer.deserialize(item["requirements"]),
                    )
                    for item in data["waiters"]
                ],
                recoveries=dict(data["recoveries"]),
                next_execution=int(data["next_execution"]),
                stream_position=int(stream["position"]),
                unconsumed=[event(text) for text in stream["unconsumed"]],
                open_questions=[event(text) for text in stream["open_questions"]],
            )
        except (KeyError, TypeError) as error:
            raise ContextSerdeError(
                f"the saved run is incomplete or malformed: {error!r}"
            ) from error
