"""The layout of a context saved by llama-index-workflows 2.x (`Context.to_dict()` there),
checked before anything in it is trusted.

Users switching engines keep the runs their old engine saved, so `Context.from_dict`
tells the two layouts apart by their keys (agentflow writes `workflow` and `run`; the
reference writes `is_running` and `workers`) and reads the reference's with the models
here. They follow its format versions 1 and 2 (2.x writes 2; 1 differs only in listing
running events as bare strings); version 0, from before 2.0, is refused, as is a newer
one. Unknown keys are refused rather than skipped: a key this reader does not know may hold
work the run still has to do. Values (state and events) are strings in the reference's
serializer format, read by `agentflow.context.llamaindex_values`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentflow.context.saved_format import Count, describe_problems
from agentflow.errors import ContextSerdeError

READ_VERSIONS = (1, 2)
"""The reference's format versions this module reads."""

_REFERENCE_KEYS = frozenset({"is_running", "workers"})
_AGENTFLOW_KEYS = frozenset({"workflow", "run"})


def saved_by_llamaindex(data: object) -> bool:
    """True when `data` has the reference's top-level keys and none of agentflow's."""
    return (
        isinstance(data, dict)
        and not _AGENTFLOW_KEYS.intersection(data)
        and bool(_REFERENCE_KEYS.intersection(data))
    )


def refusal(where: str, problem: str) -> ContextSerdeError:
    """The error for a save this reader cannot use: `where` is the key path at fault."""
    return ContextSerdeError(f"context saved by llama-index-workflows: {where}: {problem}")


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class LlamaIndexAttempt(_Shape):
    """A step execution waiting in a step's queue: its event and where it stands."""

    event: str
    """The event, as the reference's serializer wrote it."""
    bound_events: dict[str, str] | None = None
    """Events bound to the other parameters of a step taking several events."""
    attempts: Count = 0
    first_attempt_at: float | None = None
    last_exception: Any = None
    last_failed_at: float | None = None
    recovery_counts: dict[str, Count] = {}
    """How often each `@catch_error` step recovered along this event's lineage."""
    not_before: float | None = None
    scope_path: list[str] = []
    """The collection streams (`list[E]` fan-in) the execution belongs to."""
    collection_release_payload: Any = None
    work_item_id: str | None = None
    """Identifies the execution across queue, running list and waiters."""


class LlamaIndexRunning(LlamaIndexAttempt):
    """A step execution under way when the run was saved."""

    worker_id: Count | None = None
    invocation_id: str | None = None
    received: list[Count] = []
    collected_events: dict[str, list[str]] = {}
    collect_generations: dict[str, Count] = {}


class LlamaIndexWaiter(_Shape):
    """A `ctx.wait_for_event` call: the step execution it suspended, and its answer."""

    waiter_id: str
    event: str
    """The event the suspended step execution was handling."""
    bound_events: dict[str, str] | None = None
    waiting_for_event: str
    """`module.Class` of the awaited event."""
    has_requirements: bool = False
    requirements: Any = None
    """Written by releases before `has_requirements`; the step passes them again."""
    resolved_event: str | None = None
    """The answer, once one came (the step has not taken it yet)."""
    scope_path: list[str] = []
    collection_release_payload: Any = None
    work_item_id: str | None = None


class LlamaIndexWorker(_Shape):
    """One step's executions: queued, running, suspended in waits; its collect buffers."""

    queue: list[LlamaIndexAttempt] = []
    in_progress: list[LlamaIndexRunning] = []
    collected_events: dict[str, list[str]] = {}
    """`ctx.collect_events` buffers of this step, by buffer id ("default" unless named)."""
    collect_generations: dict[str, Count] = {}
    static_collect_events: list[str] = []
    collected_waiters: list[LlamaIndexWaiter] = []


class LlamaIndexDelivery(_Shape):
    """An event a step execution sent that had not been routed yet."""

    invocation_id: str
    index: Count
    event: str
    step_id: str | None = None
    """The step it was sent to, or None for every step that takes it."""
    recovery_counts: dict[str, Count] = {}
    scope_path: list[str] = []


class LlamaIndexState(_Shape):
    """The reference state store's payload; `{}` (saved with `include_state=False`) reads
    as no state, which loads as a fresh one."""

    store_type: str = "in_memory"
    """Only the reference's in-memory store keeps its state in the save itself."""
    state_type: str = "DictState"
    state_module: str = "workflows.context.state_store"
    state_data: Any = None
    """`{"_data": {key: value string}}` for a DictState, the serializer's string for a
    typed model, None for no state."""


class LlamaIndexSave(_Shape):
    """Everything the reference's `Context.to_dict()` writes (format version 2)."""

    version: int
    state: LlamaIndexState = LlamaIndexState()
    is_running: bool = False
    workers: dict[str, LlamaIndexWorker] = {}
    stream_seq: Count = 0
    work_item_seq: Count = 0
    invocation_seq: Count = 0
    deliveries: list[LlamaIndexDelivery] = []
    streams: dict[str, Any] = {}
    collection_release_states: dict[str, Any] = {}
    elapsed_alive: float = 0.0
    last_alive_stamp: float | None = None
    journal_seq: Count = Field(default=0)


def read_llamaindex_save(data: dict[str, Any]) -> LlamaIndexSave:
    """`data` (for which `saved_by_llamaindex` holds) as a `LlamaIndexSave`, or a
    ContextSerdeError naming the version it cannot read or each key path at fault."""
    version = data.get("version", 0)  # the format before versions were written is 0
    if isinstance(version, bool) or not isinstance(version, int):
        raise refusal(
            "version",
            f"the format version should be an int, got {version!r}; agentflow reads versions "
            f"{_versions()}",
        )
    if version not in READ_VERSIONS:
        hint = (
            "load it with llama-index-workflows 2.x and save it again"
            if version < min(READ_VERSIONS)
            else "it was written by a newer llama-index-workflows"
        )
        raise refusal(
            "version", f"format version {version}; agentflow reads versions {_versions()} ({hint})"
        )
    if version == 1:
        data = _as_version_2(data)
    try:
        return LlamaIndexSave.model_validate(data)
    except ValidationError as error:
        raise ContextSerdeError(
            f"context saved by llama-index-workflows: the save is malformed: "
            f"{describe_problems(error)}"
        ) from None


def _versions() -> str:
    return " and ".join(str(version) for version in READ_VERSIONS)


def _as_version_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 listed a worker's running events as bare strings; version 2 lists them as
    executions. Anything else is left for validation to judge."""
    workers = data.get("workers")
    if not isinstance(workers, dict):
        return data
    upgraded = {}
    for name, worker in workers.items():
        if isinstance(worker, dict) and isinstance(worker.get("in_progress"), list):
            running = [
                {"event": item} if isinstance(item, str) else item for item in worker["in_progress"]
            ]
            worker = {**worker, "in_progress": running}
        upgraded[name] = worker
    return {**data, "version": 2, "workers": upgraded}
