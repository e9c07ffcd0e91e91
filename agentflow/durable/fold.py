"""Folding a run's journal into what is left to do: the resume plan.

The journal (records written by `journal.py`) says which events entered the run and which step
executions completed. An execution is named by its lineage, `step@event_id`, never by when
it finished, so the fold does not depend on the order in which concurrent workers
completed. What is left after the fold:

- `deliveries`: every (step, event id) pair an event was routed to whose execution has no
  completion record. These executions run (again) on resume; an execution that was in
  flight at the crash is among them, with the ids of the events it had already sent
  (`emitted`), so that its re-run does not send them twice.
- `buffers`: the events `collect_events` calls buffered, minus those a collection took,
  in the order the calls were made (each call is a record of its own, written when it is
  made). An in-flight execution's calls are replayed when it re-runs (`collected`): they
  give back what they gave, and buffer nothing twice.
- `unclaimed`: events no step accepts and no completed wait took; a re-run wait takes
  them, which is how an answer sent to a waiting step before the crash reaches it again.
- `questions`: the InputRequiredEvents steps returned that no HumanResponseEvent has
  answered yet, oldest first: a resumed run streams them again before anything else. An
  answer is a HumanResponseEvent sent into the run (not to a named step) that a step
  accepts; one that only a `wait_for_event` takes answers that wait instead.
- `state`: the state as the last completed execution left it (serialized text).
- `ended`: the StopEvent an execution ended the run with, when one did: a run killed
  before its end was stored ends with it on resume, running nothing.

The live run keeps a fold of what it writes as well, so that a checkpoint is this fold's
`to_json()`; a resume starts from the checkpoint and applies the records after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentflow.context.serializers import BaseSerializer
from agentflow.errors import ContextSerdeError
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent
from agentflow.runtime.step_table import StepTable


@dataclass(slots=True)
class Fold:
    """What a run's journal leaves to do; see the module docstring."""

    table: StepTable
    serializer: BaseSerializer
    events: dict[str, Event] = field(default_factory=dict)
    """Every event a delivery, a buffer or the unclaimed list still refers to, by id."""
    deliveries: dict[tuple[str, str], None] = field(default_factory=dict)
    """(step, event id) routed and not completed, in the order they were routed."""
    buffers: dict[str, list[str]] = field(default_factory=dict)
    unclaimed: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    """The ids of the questions steps returned that are unanswered, oldest first."""
    state: str | None = None
    emitted: dict[str, list[str]] = field(default_factory=dict)
    """For an execution not completed: the ids of the events it sent, in order."""
    onces: dict[str, dict[str, str]] = field(default_factory=dict)
    """For an execution not completed: what its `ctx.once` calls returned, by name."""
    collected: dict[str, list[list[str] | None]] = field(default_factory=dict)
    """For an execution not completed: what each of its `collect_events` calls took
    (None: it only buffered), in call order."""
    idempotency_keys: set[str] = field(default_factory=set)
    """The keys of the events sent from outside with one (`send_confirmed`): a send that
    repeats a key is not sent again, after a restart too."""
    ended: str | bool | None = None
    """The serialized StopEvent that ended the run (True: one did, but the serializer
    could not write it); None while the run goes on."""
    next_event: int = 0
    """The id the next event entering the run gets."""
    live: dict[str, Event] = field(default_factory=dict)
    """Events the live run hands over with the record that names them, so that its fold
    keeps the objects themselves instead of decoding what it just encoded."""
    forgotten: Callable[[Event], None] | None = None
    """Told of each event the fold lets go of (the live journal forgets its id then)."""
    references: dict[str, int] = field(default_factory=dict)
    """How many deliveries, buffer places, unclaimed places and open questions refer to
    each event: an event is forgotten at zero, so that the fold (and a checkpoint) stays
    the size of what is left to do, at a constant cost per record."""
    texts: dict[str, str] = field(default_factory=dict)
    """Each event of `events` as its journal entry serialized it: a checkpoint copies
    these, instead of serializing every event it holds again (a fan-out holds thousands,
    and a checkpoint is taken every `checkpoint_every` records)."""

    def _hold(self, event_id: str, event: Event, text: str | None) -> None:
        """Refer to `event` once more; `text` is its serialized form (None when it is
        held already, and so is its text)."""
        self.events[event_id] = event
        if text is not None:
            self.texts[event_id] = text
        self.references[event_id] = self.references.get(event_id, 0) + 1

    def _release(self, event_id: str) -> None:
        left = self.references.get(event_id, 0) - 1
        if left > 0:
            self.references[event_id] = left
        else:
            self.references.pop(event_id, None)
            self.texts.pop(event_id, None)
            event = self.events.pop(event_id, None)
            if event is not None and self.forgotten is not None:
                self.forgotten(event)

    def apply(self, kind: str, key: str | None, data: str) -> None:
        """Fold one journal record in."""
        body: dict[str, Any] = json.loads(data)
        if kind == "started":
            self.state = body["state"]
            self._enter(body["event"])
        elif kind in ("sent", "emitted"):
            event_id = self._enter(body["event"])
            if kind == "sent" and key is not None:
                self.idempotency_keys.add(key)
            if self.questions and self._answers(body["event"], event_id):
                self._release(self.questions.pop(0))
            if kind == "emitted":
                if key is None:
                    raise ContextSerdeError("journal: an emitted record without its execution")
                self.emitted.setdefault(key.rsplit("#", 1)[0], []).append(event_id)
        elif kind == "once":
            if key is None:
                raise ContextSerdeError("journal: a once record without its execution")
            execution, name = key.split("!", 1)
            self.onces.setdefault(execution, {})[name] = body["value"]
        elif kind == "collect":
            if key is None:
                raise ContextSerdeError("journal: a collect record without its execution")
            self._collect(key.rsplit("%", 1)[0], body)
        elif kind == "execution":
            if key is None:
                raise ContextSerdeError("journal: an execution record without its lineage")
            self._complete(key, body)
        else:
            raise ContextSerdeError(f"journal: unknown record kind {kind!r}")

    def _enter(self, entry: dict[str, Any], returned: bool = False) -> str:
        """An event entered the run: route it to the steps its entry names, as the live
        run did (the step table of a later version may route it elsewhere). A question a
        step `returned` stays open until it is answered."""
        event_id: str = entry["id"]
        event = self._event(entry)
        self.next_event = max(self.next_event, int(event_id) + 1)
        targets: list[str] = entry["to"]
        if returned and isinstance(event, InputRequiredEvent):
            self._hold(event_id, event, entry["value"])
            self.questions.append(event_id)
        if not targets:
            if isinstance(event, InputRequiredEvent):
                # Streamed, not left over (as in the live run).
                if returned:
                    return event_id  # held as a question
                if self.forgotten is not None:
                    self.forgotten(event)
                return event_id
            self._hold(event_id, event, entry["value"])
            self.unclaimed.append(event_id)
            return event_id
        for name in targets:
            self._hold(event_id, event, entry["value"])
            self.deliveries[(name, event_id)] = None
        return event_id

    def _collect(self, execution: str, call: dict[str, Any]) -> None:
        """A `collect_events` call of `execution`, as it happened live: its event joins the
        buffer, and what the collection took leaves it. What it took stays held for the
        execution until it completes, so that a re-run gets the same collection back."""
        buffer = self.buffers.setdefault(call["buffer"], [])
        added = call["added"]
        event = self.events.get(added["id"])
        self._hold(
            added["id"], event if event is not None else self._event(added), added.get("value")
        )
        buffer.append(added["id"])
        took: list[str] | None = call.get("took")
        if took:
            gone = set(took)
            buffer[:] = [event_id for event_id in buffer if event_id not in gone]
        self.collected.setdefault(execution, []).append(took)

    def _complete(self, key: str, body: dict[str, Any]) -> None:
        step, consumed = key.split("@", 1)
        self.emitted.pop(key, None)
        self.onces.pop(key, None)
        for took in self.collected.pop(key, ()):
            for taken in took or ():
                self._release(taken)
        for answer in body.get("answers", ()):
            if answer in self.unclaimed:
                self.unclaimed.remove(answer)
                self._release(answer)
        if (step, consumed) in self.deliveries:
            del self.deliveries[(step, consumed)]
            self._release(consumed)
        if body.get("state") is not None:
            self.state = body["state"]
        if body.get("ended"):
            self.ended = body["ended"]
            return
        returned = body.get("returned")
        if returned is not None:
            self._enter(returned, returned=True)

    def _answers(self, entry: dict[str, Any], event_id: str) -> bool:
        """True when the event `entry` sent into the run answers the oldest open question:
        a HumanResponseEvent routed to a step, as the live run counts it (`route`)."""
        return (
            bool(entry["to"])
            and not entry.get("direct")
            and isinstance(self.events.get(event_id), HumanResponseEvent)
        )

    def _event(self, entry: dict[str, Any]) -> Event:
        handed = self.live.pop(entry["id"], None)
        if handed is not None:
            return handed
        value = self.serializer.deserialize_at(entry["value"], f"journal event {entry['id']}")
        if not isinstance(value, Event):
            raise ContextSerdeError(
                f"journal event {entry['id']}: a {type(value).__name__}, where an event belongs"
            )
        return value

    def to_json(self) -> str:
        """The fold as a checkpoint's data."""
        return json.dumps(
            {
                "events": {event_id: self.texts[event_id] for event_id in self.events},
                "deliveries": [list(pair) for pair in self.deliveries],
                "buffers": self.buffers,
                "unclaimed": self.unclaimed,
                "questions": self.questions,
                "state": self.state,
                "emitted": self.emitted,
                "collected": self.collected,
                "onces": self.onces,
                "ended": self.ended,
                "next_event": self.next_event,
                "idempotency_keys": sorted(self.idempotency_keys),
            }
        )

    @classmethod
    def from_json(cls, data: str, table: StepTable, serializer: BaseSerializer) -> Fold:
        """The fold a checkpoint holds."""
        body = json.loads(data)
        fold = cls(table, serializer)
        texts: dict[str, str] = body["events"]
        events = {
            event_id: fold._event({"id": event_id, "value": text})
            for event_id, text in texts.items()
        }
        for step, event_id in body["deliveries"]:
            fold.deliveries[(step, event_id)] = None
            fold._hold(event_id, events[event_id], texts[event_id])
        for key, ids in body["buffers"].items():
            fold.buffers[key] = list(ids)
            for event_id in ids:
                fold._hold(event_id, events[event_id], texts[event_id])
        for event_id in body["unclaimed"]:
            fold.unclaimed.append(event_id)
            fold._hold(event_id, events[event_id], texts[event_id])
        for event_id in body.get("questions", ()):  # a checkpoint from before questions
            fold.questions.append(event_id)
            fold._hold(event_id, events[event_id], texts[event_id])
        fold.state = body["state"]
        fold.emitted = {key: list(ids) for key, ids in body["emitted"].items()}
        fold.onces = {key: dict(values) for key, values in body["onces"].items()}
        for key, calls in body["collected"].items():
            fold.collected[key] = [None if took is None else list(took) for took in calls]
            for took in calls:
                for event_id in took or ():
                    fold._hold(event_id, events[event_id], texts[event_id])
        fold.ended = body.get("ended")
        fold.idempotency_keys = set(body.get("idempotency_keys", ()))
        fold.next_event = body["next_event"]
        return fold
