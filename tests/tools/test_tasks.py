"""tools.tasks: an async tool call in a task of its own, told apart from its caller's fate.

A CancelledError the tool brings on itself is an error output; cancelling the caller
cancels the tool; a tool that ignores its cancellation is walked away from at its timeout,
and its abandoned task neither vanishes mid-await nor leaves asyncio noise behind.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import logging
import threading
import weakref
from typing import Any

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import WorkflowCancelledByUser
from agentflow.events import StartEvent, StopEvent
from tools import FunctionTool, ToolCancelledError
from tools.tasks import await_in_own_task

NOISE = ("Task exception was never retrieved", "Task was destroyed but it is pending")


def asyncio_noise(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(NOISE)]


# --- a CancelledError the tool brings on itself, and the caller's own ------------------


@pytest.mark.parametrize("timeout", [None, 5.0])
async def test_a_tool_awaiting_a_future_cancelled_elsewhere_gives_an_error_output(
    timeout: float | None,
) -> None:
    started = asyncio.Event()
    shared: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def wait_for_answer() -> str:
        started.set()
        return await shared

    call = asyncio.create_task(FunctionTool.from_defaults(wait_for_answer, timeout=timeout).acall())
    await started.wait()
    shared.cancel("the producer went away")  # someone else's future, not the tool's task
    output = await call
    assert output.is_error
    assert output.content.startswith(
        "Error: tool 'wait_for_answer' raised CancelledError('the producer went away') "
        "although its call was not cancelled"
    )
    assert isinstance(output.exception, ToolCancelledError)
    assert isinstance(output.exception.__cause__, asyncio.CancelledError)


async def test_a_tool_raising_cancelled_error_itself_gives_an_error_output() -> None:
    async def give_up() -> None:
        raise asyncio.CancelledError

    output = await FunctionTool.from_defaults(give_up).acall()
    assert output.is_error
    assert "tool 'give_up' raised CancelledError() although its call was not cancelled" in (
        output.content
    )


async def test_a_tool_cancelling_its_own_task_gives_an_error_output() -> None:
    async def cancel_self() -> None:
        asyncio.current_task().cancel()  # type: ignore[union-attr]
        await asyncio.Event().wait()

    output = await FunctionTool.from_defaults(cancel_self, timeout=5).acall()
    assert output.is_error
    assert output.content == (
        "Error: the task of tool 'cancel_self' was cancelled, but neither by its caller nor "
        "at its timeout"
    )
    assert isinstance(output.exception, ToolCancelledError)


async def test_a_sync_tool_raising_cancelled_error_gives_an_error_output() -> None:
    def read_result() -> None:  # a concurrent future cancelled by another thread's code
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        future.cancel()
        future.result()

    for timeout in (None, 5.0):
        sync_tool = FunctionTool.from_defaults(read_result, timeout=timeout)
        for output in (await sync_tool.acall(), sync_tool.call()):
            assert output.is_error, output
            assert "tool 'read_result' raised CancelledError" in output.content


@pytest.mark.parametrize("timeout", [None, 5.0])
async def test_cancelling_the_caller_cancels_the_tool_and_waits_for_its_cleanup(
    timeout: float | None,
) -> None:
    started, cleaned_up = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # a cleanup that yields to the loop: closing a socket, say
            cleaned_up.set()

    call = asyncio.create_task(FunctionTool.from_defaults(hold, timeout=timeout).acall())
    await started.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert cleaned_up.is_set()  # the tool ended before its caller's cancellation went on


async def test_cancelling_a_run_cancels_the_tool_its_step_is_calling() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def lookup() -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    lookup_tool = FunctionTool.from_defaults(lookup, timeout=30)

    class CallsTool(Workflow):
        @step
        async def call(self, ctx: Context, ev: StartEvent) -> StopEvent:
            return StopEvent(result=await lookup_tool.acall())

    handler = CallsTool(timeout=None).run()
    await started.wait()
    await handler.cancel_run()
    assert cancelled.is_set()
    with pytest.raises(WorkflowCancelledByUser):
        await handler


async def test_without_a_timeout_the_tool_runs_in_its_callers_task() -> None:
    async def read_state(ctx: Context, key: str) -> str:
        return str(await ctx.store.get(key))

    reader = FunctionTool.from_defaults(read_state)

    class EditsAndReads(Workflow):
        @step
        async def edit(self, ctx: Context, ev: StartEvent) -> StopEvent:
            async with ctx.store.edit_state() as state:
                state.seen = "yes"  # type: ignore[attr-defined]
                output = await reader.acall(ctx=ctx, key="seen")  # inside the edit: no lock wait
            return StopEvent(result=output.content)

    assert await EditsAndReads(timeout=10).run() == "yes"


# --- a tool that ignores its cancellation ------------------------------------------------


async def test_a_tool_ignoring_cancellation_is_abandoned_at_its_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancelled, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()
    tool_tasks: list[asyncio.Task[Any]] = []

    async def stubborn() -> str:
        tool_tasks.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()  # ...and carries on regardless
        await release.wait()
        finished.set()
        return "too late"

    output = await FunctionTool.from_defaults(stubborn, timeout=0.05).acall()
    assert output.is_error
    assert "tool 'stubborn' did not finish within its timeout of 0.05 s" in output.content
    assert isinstance(output.exception, TimeoutError)
    assert not finished.is_set()  # returned without waiting for the tool to honour the cancel

    await cancelled.wait()  # it was cancelled, and ignored it
    (task,) = tool_tasks
    assert not task.done()
    assert task.get_name() == "tool 'stubborn' (abandoned)"
    release.set()
    await asyncio.wait([task])
    assert task.result() is not None
    del task
    tool_tasks.clear()
    gc.collect()
    assert asyncio_noise(caplog) == []


async def test_an_abandoned_task_is_kept_alive_while_it_runs_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    swallowed = asyncio.Event()
    task_ref: list[weakref.ref[asyncio.Task[Any]]] = []

    async def stubborn() -> None:
        task_ref.append(weakref.ref(asyncio.current_task()))  # type: ignore[arg-type]
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            swallowed.set()
        # Awaits a future only this coroutine holds: unreachable but for the abandoned set.
        await asyncio.get_running_loop().create_future()

    output = await FunctionTool.from_defaults(stubborn, timeout=0.02).acall()
    assert "did not finish within its timeout" in output.content
    await swallowed.wait()
    del output  # its exception's traceback would hold the task too
    gc.collect()
    task = task_ref[0]()
    assert task is not None
    assert not task.done()
    assert asyncio_noise(caplog) == []
    task.cancel()  # the second cancel ends it
    await asyncio.wait([task])
    assert task.cancelled()


async def test_cancelling_the_caller_of_a_tool_ignoring_it_waits_no_longer_than_the_timeout() -> (
    None
):
    started, release, ended = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def stubborn() -> None:
        started.set()
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue
        ended.set()

    call = asyncio.create_task(FunctionTool.from_defaults(stubborn, timeout=0.05).acall())
    await started.wait()
    call.cancel()
    try:
        with pytest.raises(asyncio.CancelledError):
            await call  # ends once the rest of the timeout is up, though the tool runs on
        assert not ended.is_set()
    finally:
        release.set()
        await ended.wait()


async def test_a_second_cancel_of_the_caller_stops_waiting_for_the_tool() -> None:
    started, swallowed = asyncio.Event(), asyncio.Event()
    release, ended = asyncio.Event(), asyncio.Event()

    async def stubborn() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            swallowed.set()
        await release.wait()
        ended.set()

    call = asyncio.create_task(FunctionTool.from_defaults(stubborn, timeout=30).acall())
    await started.wait()
    call.cancel()
    await swallowed.wait()
    call.cancel()
    try:
        with pytest.raises(asyncio.CancelledError):
            await call
        assert not ended.is_set()
    finally:
        release.set()
        await ended.wait()


def test_sync_call_of_an_async_tool_ignoring_cancellation_returns_at_its_timeout() -> None:
    held: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
    swallowed = threading.Event()

    async def stubborn() -> None:
        loop = asyncio.get_running_loop()
        release = loop.create_future()
        held.append((loop, release))
        while not release.done():  # ignores every cancel until released
            try:
                await asyncio.shield(release)
            except asyncio.CancelledError:
                swallowed.set()

    output = FunctionTool.from_defaults(stubborn, timeout=0.05).call()
    assert "tool 'stubborn' did not finish within its timeout of 0.05 s" in output.content
    assert swallowed.wait(timeout=10)
    loop, release = held[0]
    loop.call_soon_threadsafe(release.set_result, None)


# --- the helper on its own --------------------------------------------------------------


async def test_an_abandoned_task_that_fails_later_is_logged_not_left_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []

    async def fails_late() -> None:
        tasks.append(asyncio.current_task())  # type: ignore[arg-type]
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()
        await release.wait()
        raise LookupError("the late failure")

    with caplog.at_level(logging.WARNING, logger="tools"):
        with pytest.raises(TimeoutError):
            await await_in_own_task(fails_late(), 0.02, "tool fails_late")
        release.set()
        await asyncio.wait(tasks)
        del tasks[:]
        gc.collect()
    assert asyncio_noise(caplog) == []
    (record,) = [r for r in caplog.records if r.name.startswith("tools")]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        "tool fails_late (abandoned) raised LookupError; its caller had already gone on without it"
    )
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], LookupError)
