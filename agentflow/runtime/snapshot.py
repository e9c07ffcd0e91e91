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
    collected: list[list[Event] | None] = field(default_factory=list)
    """What its `collect_events` calls had returned, in call order."""


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
    """Events streamed first on resume: unanswered questions the consumer had already
    taken, then the events it had not taken yet."""
    open_questions: list[int] = field(default_factory=list)
    """Positions in `unconsumed` of the InputRequiredEvents that steps returned and no
    HumanResponseEvent has answered yet, oldest first."""

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
                    "collected": [
                        None
                        if events is None
                        else [event(ev, f"event collected by step '{item.step}'") for ev in events]
                        for events in item.collected
                    ],
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
                "open_questions": list(self.open_questions),
            },
        }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], serializer: BaseSerializer, step_names: set[str]
    ) -> RunSnapshot:
        """The snapshot `to_dict` wrote; every step it names must exist in `step_names`."""

        def event(text: str, where: str) -> Event:
            value = serializer.deserialize(text)
            if not isinstance(value, Event):
                raise ContextSerdeError(
                    f"the saved context holds a {type(value).__name__} as the {where}, where "
                    "an event belongs"
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
                queued=[
                    (
                        known(item["step"]),
                        event(item["event"], f"event queued for step '{item['step']}'"),
                    )
                    for item in data["queued"]
                ],
                in_progress=[
                    InProgress(
                        step=known(item["step"]),
                        event=event(item["event"], f"event of running step '{item['step']}'"),
                        execution=item["execution"],
                        answered={
                            k: event(v, f"answer to waiter '{k}'")
                            for k, v in item["answered"].items()
                        },
                        collected=[
                            None
                            if texts is None
                            else [event(t, f"event collected by '{item['step']}'") for t in texts]
                            for texts in item["collected"]
                        ],
                    )
                    for item in data["in_progress"]
                ],
                unclaimed=[event(text, "event no step had taken") for text in data["unclaimed"]],
                collected={
                    key: [event(text, f"event collected by '{key}'") for text in texts]
                    for key, texts in data["collected"].items()
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
                unconsumed=[event(text, "streamed event") for text in stream["unconsumed"]],
                open_questions=[int(position) for position in stream["open_questions"]],
            )
        except (KeyError, TypeError) as error:
            raise ContextSerdeError(
                f"the saved run is incomplete or malformed: {error!r}"
            ) from error
