"""`ctx.once` and `ctx.idempotency_key` for a run in memory.

A step execution is named by its step and its execution number (the one default waiter
ids are made from, saved with a snapshot), so a retry of the execution, or its re-run
after `Context.from_dict`, gets the same key. `once` keeps each result under that key for
the run's life: a retried step gets the result its first attempt recorded, and the
function is not called again. A durable run (`agentflow.durable`) journals the results
instead, so they survive the process.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentflow.errors import ContextStateError
from agentflow.runtime.execution import Execution, current_execution
from agentflow.runtime.waiters import Waiters

if TYPE_CHECKING:
    from agentflow.runtime.run import WorkflowRun


def calling_execution(run: WorkflowRun, operation: str) -> Execution:
    """The step execution of `run` calling `operation` now."""
    execution = current_execution.get()
    if execution is None or execution.link is not run.link:
        raise ContextStateError(
            f"ctx.{operation}() names a step execution, so it is called from a step of the "
            "run, not from outside it"
        )
    return execution


def execution_name(run: WorkflowRun, execution: Execution) -> str:
    """`step:number`, the same for every attempt of the execution."""
    if execution.number is None:
        waiters = run.waiters
        if waiters is None:
            waiters = run.waiters = Waiters()
        execution.number = waiters.next_execution
        waiters.next_execution += 1
    return f"{execution.step}:{execution.number}"


def idempotency_key_in(run: WorkflowRun, name: str) -> str:
    """`run`'s `idempotency_key` (the run port's): see `Context.idempotency_key`."""
    execution = calling_execution(run, "idempotency_key")
    return f"{run.run_id}:{execution_name(run, execution)}:{name}"


async def once_in(
    run: WorkflowRun, name: str, function: Callable[..., Any], args: tuple[Any, ...]
) -> Any:
    """`run`'s `once` (the run port's): see `Context.once`."""
    execution = calling_execution(run, "once")
    key = f"{execution_name(run, execution)}:{name}"
    results = run.once_results
    if results is None:
        results = run.once_results = {}
    if key in results:
        return results[key]
    result = await call(function, args)
    results[key] = result
    return result


async def call(function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """`function(*args)`, awaited when it gives an awaitable."""
    result = function(*args)
    if inspect.isawaitable(result):
        result = await result
    return result
