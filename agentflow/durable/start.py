"""Making a durable run: a new one in the store, or one resumed from its journal."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentflow.context.serializers import JsonSerializer
from agentflow.durable.fold import Fold
from agentflow.durable.run import DurableRun, qualified_name
from agentflow.errors import RunFinishedError, RunVersionError
from agentflow.events import StartEvent
from agentflow.stores.base import TERMINAL_STATUSES

if TYPE_CHECKING:
    from agentflow.context import Context
    from agentflow.runtime.step_table import StepTable
    from agentflow.stores.base import RunStore
    from agentflow.workflow import Workflow


def durable_run(
    workflow: Workflow[Any],
    table: StepTable,
    ctx: Context[Any],
    store: RunStore,
    run_id: str,
    start_event: StartEvent | None,
) -> DurableRun:
    """A new run of `workflow`, put in `store` when it starts."""
    return DurableRun(
        workflow,
        table,
        ctx,
        store,
        run_id,
        Fold(table, JsonSerializer()),
        start_event=start_event,
        next_seq=0,
    )


async def resumed_run(
    workflow: Workflow[Any],
    table: StepTable,
    ctx: Context[Any],
    store: RunStore,
    run_id: str,
    allow_version_change: bool = False,
) -> Callable[[], DurableRun]:
    """Load `run_id` from `store` and fold its journal; `ctx` gets the run's state. Returns
    what makes the run, for `start_run`."""
    stored = await store.load(run_id)
    info = stored.info
    expected = qualified_name(type(workflow))
    if not allow_version_change:
        if info.workflow != expected:
            raise RunVersionError(
                f"run {run_id!r} is a run of {info.workflow}, so {expected} cannot resume "
                "it; pass allow_version_change=True if the class was only moved or renamed"
            )
        if info.version != workflow.version:
            raise RunVersionError(
                f"run {run_id!r} was started by {info.workflow} version {info.version!r}, "
                f"and this is version {workflow.version!r}; pass allow_version_change=True "
                "to resume it with this version"
            )
    if info.status in TERMINAL_STATUSES:
        raise RunFinishedError(
            f"run {run_id!r} has ended ({info.status}); only a run that has not can be resumed"
        )
    serializer = JsonSerializer()
    if stored.checkpoint is not None:
        fold = Fold.from_json(stored.checkpoint.data, table, serializer)
        next_seq = stored.checkpoint.seq + 1
    else:
        fold = Fold(table, serializer)
        next_seq = 0
    for record in stored.records:
        fold.apply(record.kind, record.key, record.data)
        next_seq = record.seq + 1
    missing = sorted({step for step, _ in fold.deliveries if step not in table.steps})
    if missing:
        raise RunVersionError(
            f"run {run_id!r} has work left for step(s) {', '.join(missing)}, which "
            f"{expected} does not have (steps: {', '.join(sorted(table.steps))}); restore "
            "them to resume this run"
        )
    if fold.state is not None:
        await ctx.store.set_state(serializer.deserialize_at(fold.state, "state"))
    # Every execution left to run may have streamed before the crash (a prefix of its
    # writes, as the store keeps a prefix of what the run wrote): its re-run skips those.
    stream = await store.stream_position(run_id, [f"{s}@{e}" for s, e in fold.deliveries])
    return functools.partial(
        DurableRun,
        workflow,
        table,
        ctx,
        store,
        run_id,
        fold,
        start_event=None,
        next_seq=next_seq,
        next_stream_seq=stream.next_seq,
        replayed_stream=stream.counts,
    )
