"""`Workflow.hold_for_run`: what a workflow keeps for each of its runs (an MCP session, say)
is taken as the run starts, before any step, and let go once the run's steps have stopped
and before its handler resolves, on every outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import WorkflowCancelledByUser, WorkflowTimeoutError
from agentflow.events import StartEvent, StopEvent
from agentflow.handler import WorkflowHandler
from agentflow.stores import SqliteStore


class Mode(StartEvent):
    mode: str


class Holding(Workflow):
    """Logs what its runs hold and let go, and when its one step runs and stops."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log: list[str] = []
        self.handlers: list[WorkflowHandler[Any]] = []
        self.working = asyncio.Event()

    def hold_for_run(self) -> Callable[[], Awaitable[None]] | None:
        self.log.append("hold")

        async def release() -> None:
            await asyncio.sleep(0)  # letting go may take awaits; the handler waits for them
            resolved = [handler.done() for handler in self.handlers]
            self.log.append(f"release (a handler resolved: {any(resolved)})")

        return release

    @step
    async def work(self, ev: Mode) -> StopEvent:
        self.log.append("step")
        try:
            if ev.mode == "fail":
                raise ValueError("the step failed")
            if ev.mode == "wait":
                self.working.set()
                await asyncio.Event().wait()
            return StopEvent(result="done")
        finally:
            self.log.append("step stopped")


HELD_THEN_LET_GO = ["hold", "step", "step stopped", "release (a handler resolved: False)"]


async def test_a_completed_run_lets_go_before_its_handler_resolves() -> None:
    workflow = Holding()
    workflow.handlers.append(handler := workflow.run(mode="complete"))

    assert await handler == "done"
    assert workflow.log == HELD_THEN_LET_GO


async def test_a_failed_run_lets_go_before_its_handler_resolves() -> None:
    workflow = Holding()
    workflow.handlers.append(handler := workflow.run(mode="fail"))

    with pytest.raises(ValueError, match="the step failed"):
        await handler
    assert workflow.log == HELD_THEN_LET_GO


@pytest.mark.parametrize("how", ["handler.cancel", "cancel_run"])
async def test_a_cancelled_run_lets_go_once_its_step_stopped(how: str) -> None:
    workflow = Holding()
    workflow.handlers.append(handler := workflow.run(mode="wait"))
    await workflow.working.wait()

    if how == "handler.cancel":
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
    else:
        await handler.cancel_run()
        with pytest.raises(WorkflowCancelledByUser):
            await handler
    assert workflow.log == HELD_THEN_LET_GO


async def test_a_timed_out_run_lets_go_once_its_step_stopped() -> None:
    workflow = Holding(timeout=0.2)
    workflow.handlers.append(handler := workflow.run(mode="wait"))

    with pytest.raises(WorkflowTimeoutError):
        await handler
    assert workflow.log == HELD_THEN_LET_GO


async def test_each_run_holds_for_itself_also_waiting_for_a_slot() -> None:
    workflow = Holding(num_concurrent_runs=1)
    workflow.handlers.extend([workflow.run(mode="complete"), workflow.run(mode="complete")])

    assert await asyncio.gather(*workflow.handlers) == ["done", "done"]
    assert workflow.log.count("hold") == 2
    assert workflow.log.count("release (a handler resolved: False)") == 1
    assert workflow.log.count("release (a handler resolved: True)") == 1  # the first's


async def test_a_durable_run_holds_and_lets_go_too(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "runs.db") as store:
        workflow = Holding(store=store)
        workflow.handlers.append(handler := workflow.run(mode="complete"))

        assert await handler == "done"
    assert workflow.log == HELD_THEN_LET_GO


class RefusesToHold(Workflow):
    def hold_for_run(self) -> Callable[[], Awaitable[None]] | None:
        raise RuntimeError("nothing to hold")

    @step
    async def work(self, ev: StartEvent) -> StopEvent:
        raise AssertionError("a run that could not hold never starts")


async def test_a_hold_that_fails_is_raised_by_run_and_nothing_starts() -> None:
    workflow = RefusesToHold()
    ctx: Context[Any] = Context(workflow)

    with pytest.raises(RuntimeError, match="nothing to hold"):
        workflow.run(ctx)
    assert not ctx.is_running


class FailsToLetGo(Workflow):
    def hold_for_run(self) -> Callable[[], Awaitable[None]] | None:
        async def release() -> None:
            raise OSError("the session would not close")

        return release

    @step
    async def work(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="done")


async def test_a_release_that_fails_fails_the_run_with_its_error() -> None:
    with pytest.raises(OSError, match="would not close") as raised:
        await FailsToLetGo().run()
    assert any("hold_for_run" in note for note in raised.value.__notes__)


async def test_a_workflow_holds_nothing_by_default() -> None:
    class Plain(Workflow):
        @step
        async def work(self, ev: StartEvent) -> StopEvent:
            return StopEvent(result="done")

    plain = Plain()
    assert plain.hold_for_run() is None
    assert await plain.run() == "done"
