"""A context saved by llama-index-workflows 2.x, as agentflow's state and run snapshot.

The reference keeps, per step, the executions waiting in its queue, those running, and
those suspended in `ctx.wait_for_event` (a waiter records the event the step was handling
and, once it came, the answer); its steps run again from their start when resumed, as
agentflow's do after a save. So the mapping is:

- a queued execution is queued for its step;
- a running one, or one suspended in waits, runs again from its start
  (`InProgress`), its waits that were answered returning those answers at once (waits
  with the reference's default ids get agentflow's default ids, in call order);
- a step's `collect_events` buffers keep their events (the reference's buffer "default"
  is agentflow's default buffer, named after the step);
- events sent but not routed yet go to the steps that take them, or wait for a wait;
- the `@catch_error` budget used is the most any lineage had used.

Completed executions were never in the save, so they do not run again. What the reference
saves and agentflow has no counterpart for is either dropped where it only measures
(retry counts and delays, the timeout budget spent: those start afresh) or refused where it
is work the run still has to do (the reference's `list[E]` collection streams, steps taking
several events): a save agentflow cannot continue faithfully is never loaded halfway.
The reference does not save its stream, so the questions its waiting steps had asked are
asked again when those steps run again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from agentflow.context.llamaindex_format import (
    LlamaIndexAttempt,
    LlamaIndexDelivery,
    LlamaIndexSave,
    LlamaIndexState,
    LlamaIndexWaiter,
    LlamaIndexWorker,
    read_llamaindex_save,
    refusal,
)
from agentflow.context.llamaindex_values import LlamaIndexValues
from agentflow.context.saved_format import child_path
from agentflow.context.state_store import DictState
from agentflow.events import Event
from agentflow.runtime.snapshot import InProgress, RunSnapshot

if TYPE_CHECKING:
    from agentflow.context.serializers import BaseSerializer
    from agentflow.runtime.step_table import StepSpec, StepTable


@dataclass(frozen=True, slots=True)
class LlamaIndexLoad:
    """What a save of the reference gives a new context."""

    state: BaseModel | None
    """The saved state; None when the save holds none (the context keeps a fresh one)."""
    run: RunSnapshot | None
    """The run saved in flight, which `workflow.run(ctx=ctx)` resumes; None if none was."""


def load_llamaindex_save(
    data: dict[str, Any],
    serializer: BaseSerializer | None,
    table: StepTable,
    state_type: type[BaseModel],
) -> LlamaIndexLoad:
    """Read `data`, which `saved_by_llamaindex` recognised, for the workflow whose steps
    `table` holds and whose state is a `state_type`; everything is checked before a
    context is built from it."""
    saved = read_llamaindex_save(data)
    values = LlamaIndexValues(serializer)
    state = state_from_llamaindex(saved.state, values, state_type, table.workflow_name)
    return LlamaIndexLoad(state, run_from_llamaindex(saved, values, table))


def state_from_llamaindex(
    saved: LlamaIndexState, values: LlamaIndexValues, expected: type[BaseModel], workflow: str
) -> BaseModel | None:
    """The saved state, checked to be of the `expected` type; None when the save holds
    none (the context keeps a fresh one)."""
    if saved.store_type != "in_memory":
        raise refusal(
            "state.store_type",
            f"the state is kept in a '{saved.store_type}' store, not in the save; agentflow "
            "reads state the reference's in-memory store saved",
        )
    data = saved.state_data
    if data is None:
        return None
    where = "state.state_data"
    if isinstance(data, str):
        # A typed model, as the serializer's string; or a DictState written as one string
        # (an older layout), which reads as the dict below.
        data = values.read(data, where)
    if isinstance(data, BaseModel):
        state = data
    elif isinstance(data, dict) and isinstance(data.get("_data"), dict):
        state = DictState.model_validate(
            {
                key: _value(values, text, child_path(f"{where}._data", key))
                for key, text in data["_data"].items()
            }
        )
    else:
        raise refusal(
            where,
            f"a value of type {type(data).__name__}, where the reference writes a DictState's "
            "values (under '_data') or a model as its serializer's string",
        )
    if not isinstance(state, expected):
        raise refusal(
            "state",
            f"the saved state is a {type(state).__name__}, but workflow {workflow} keeps its "
            f"state in a {expected.__name__}",
        )
    return state


def run_from_llamaindex(
    saved: LlamaIndexSave, values: LlamaIndexValues, table: StepTable
) -> RunSnapshot | None:
    """The run the reference saved in flight, as a snapshot for `table`'s workflow; None
    when it was not running (before its first run, or after it ended: a new run starts).
    Every event is decoded and checked against the step it goes to first, so that
    restoring cannot fail halfway; each problem is a ContextSerdeError naming its key path."""
    if not saved.is_running:
        return None
    for key in ("streams", "collection_release_states"):
        if getattr(saved, key):
            raise refusal(key, _COLLECTION_STREAMS)
    reader = _RunReader(values, table)
    for name, worker in saved.workers.items():
        reader.worker(name, worker)
    for index, delivery in enumerate(saved.deliveries):
        reader.delivery(delivery, f"deliveries[{index}]")
    return reader.snapshot


_COLLECTION_STREAMS = (
    "the run has open collection streams (a step taking `list[E]`, fed by a step returning "
    "a list), which agentflow does not have; finish the run on llama-index-workflows, or "
    "collect with ctx.collect_events"
)


@dataclass
class _Execution:
    """One step execution of the save: queued, running or suspended in its waits."""

    event: Event
    event_text: str
    work_item_id: str | None
    running: bool = False
    waits: list[tuple[LlamaIndexWaiter, Event | None]] = field(default_factory=list)
    """Its waits, in call order, with their answers where they had one."""


class _RunReader:
    """Builds the snapshot worker by worker."""

    def __init__(self, values: LlamaIndexValues, table: StepTable) -> None:
        self.values = values
        self.table = table
        self.snapshot = RunSnapshot()
        self.buffer_owners: dict[str, str] = {}

    def worker(self, name: str, worker: LlamaIndexWorker) -> None:
        where = child_path("workers", name)
        if worker.static_collect_events:
            raise refusal(f"{where}.static_collect_events", _SEVERAL_EVENTS)
        buffers = {key: texts for key, texts in worker.collected_events.items() if texts}
        if not (worker.queue or worker.in_progress or worker.collected_waiters or buffers):
            return  # a step with nothing under way; the reference lists every step
        spec = self._step(name, where)
        executions: list[_Execution] = []
        for index, running in enumerate(worker.in_progress):
            item = self._execution(spec, running, f"{where}.in_progress[{index}]")
            item.running = True
            executions.append(item)
        for index, queued in enumerate(worker.queue):
            executions.append(self._execution(spec, queued, f"{where}.queue[{index}]"))
        for index, waiter in enumerate(worker.collected_waiters):
            self._waiter(spec, waiter, f"{where}.collected_waiters[{index}]", executions)
        for item in executions:
            if item.running or item.waits:
                self.snapshot.in_progress.append(self._in_progress(spec, item))
            else:
                self.snapshot.queued.append((spec.name, item.event))
        for key, texts in buffers.items():
            self._buffer(spec.name, key, texts, f"{where}.collected_events")

    def delivery(self, delivery: LlamaIndexDelivery, where: str) -> None:
        _no_stream_scope(delivery.scope_path, f"{where}.scope_path")
        self._count_recoveries(delivery.recovery_counts, f"{where}.recovery_counts")
        if delivery.step_id is not None:
            spec = self._step(delivery.step_id, f"{where}.step_id")
            event = self._for_step(spec, delivery.event, f"{where}.event")
            self.snapshot.queued.append((spec.name, event))
            return
        event = self.values.event(delivery.event, f"{where}.event")
        specs = self.table.route(type(event))
        self.snapshot.queued.extend((spec.name, event) for spec in specs)
        if not specs:
            self.snapshot.unclaimed.append(event)  # an answer, which a wait takes

    def _step(self, name: str, where: str) -> StepSpec:
        spec = self.table.steps.get(name)
        if spec is None:
            raise refusal(
                where,
                f"the save names step '{name}', which workflow {self.table.workflow_name} "
                f"does not have (steps: {', '.join(sorted(self.table.steps))})",
            )
        return spec

    def _for_step(self, spec: StepSpec, text: str, where: str) -> Event:
        event = self.values.event(text, where)
        if not spec.accepts(type(event)):
            accepted = ", ".join(t.__name__ for t in spec.accepted)
            raise refusal(
                where,
                f"a {type(event).__name__}, which step '{spec.name}' does not accept (it "
                f"accepts {accepted})",
            )
        return event

    def _execution(self, spec: StepSpec, saved: LlamaIndexAttempt, where: str) -> _Execution:
        _no_fan_in(saved.bound_events, saved.collection_release_payload, where)
        _no_stream_scope(saved.scope_path, f"{where}.scope_path")
        self._count_recoveries(saved.recovery_counts, f"{where}.recovery_counts")
        event = self._for_step(spec, saved.event, f"{where}.event")
        return _Execution(event, saved.event, saved.work_item_id)

    def _waiter(
        self, spec: StepSpec, waiter: LlamaIndexWaiter, where: str, executions: list[_Execution]
    ) -> None:
        """Add `waiter` to the execution it suspended: the one with its work item id (the
        reference queues a step again, under the same id, once its wait is answered), else
        one of the same event saved without ids, else a new one."""
        _no_fan_in(waiter.bound_events, waiter.collection_release_payload, where)
        _no_stream_scope(waiter.scope_path, f"{where}.scope_path")
        answer = None
        if waiter.resolved_event is not None:
            answer = self.values.event(waiter.resolved_event, f"{where}.resolved_event")
        owner = next(
            (
                item
                for item in executions
                if (item.work_item_id is not None and item.work_item_id == waiter.work_item_id)
                or (
                    item.work_item_id is None
                    and waiter.work_item_id is None
                    and item.event_text == waiter.event
                )
            ),
            None,
        )
        if owner is None:
            event = self._for_step(spec, waiter.event, f"{where}.event")
            owner = _Execution(event, waiter.event, waiter.work_item_id)
            executions.append(owner)
        owner.waits.append((waiter, answer))

    def _in_progress(self, spec: StepSpec, item: _Execution) -> InProgress:
        answered: dict[str, Event] = {}
        number = None
        if item.waits:
            number = self.snapshot.next_execution
            self.snapshot.next_execution += 1
        defaults = 0
        for waiter, answer in item.waits:
            waiter_id = waiter.waiter_id
            if waiter_id.startswith(f"waiter_{waiter.waiting_for_event}_"):
                # The reference's default id (from the awaited type and requirements);
                # agentflow's default ids count the execution's waits instead.
                waiter_id = f"{spec.name}:{number}:{defaults}"
                defaults += 1
            if answer is not None:
                answered[waiter_id] = answer
        return InProgress(step=spec.name, event=item.event, execution=number, answered=answered)

    def _buffer(self, step: str, key: str, texts: list[str], where: str) -> None:
        buffer_id = step if key == "default" else key
        owner = self.buffer_owners.setdefault(buffer_id, step)
        if owner != step:
            raise refusal(
                child_path(where, key),
                f"steps '{owner}' and '{step}' both collect into buffer '{buffer_id}', which "
                "is one buffer on agentflow (a named buffer is shared by the run's steps)",
            )
        events = self.snapshot.collected.setdefault(buffer_id, [])
        events.extend(
            self.values.event(text, f"{child_path(where, key)}[{index}]")
            for index, text in enumerate(texts)
        )

    def _count_recoveries(self, counts: dict[str, int], where: str) -> None:
        recoveries = self.snapshot.recoveries
        for handler, count in counts.items():
            spec = self.table.steps.get(handler)
            if spec is None or spec.catch_error is None:
                raise refusal(
                    child_path(where, handler),
                    f"'{handler}' is not a @catch_error step of workflow "
                    f"{self.table.workflow_name}",
                )
            recoveries[handler] = max(recoveries.get(handler, 0), count)


_SEVERAL_EVENTS = (
    "events bound for a step taking several events as parameters, which agentflow does not "
    "have; collect them in one step with ctx.collect_events"
)


def _no_fan_in(bound_events: dict[str, str] | None, payload: Any, where: str) -> None:
    if bound_events is not None:
        raise refusal(f"{where}.bound_events", _SEVERAL_EVENTS)
    if payload is not None:
        raise refusal(f"{where}.collection_release_payload", _COLLECTION_STREAMS)


def _no_stream_scope(scope_path: list[str], where: str) -> None:
    if scope_path:
        raise refusal(where, _COLLECTION_STREAMS)


def _value(values: LlamaIndexValues, text: Any, where: str) -> Any:
    if not isinstance(text, str):
        raise refusal(
            where, f"a value of type {type(text).__name__}, where the serializer's string belongs"
        )
    return values.read(text, where)
