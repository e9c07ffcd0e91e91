"""The daemon threads sync steps run in: off the event loop, with the caller's context
variables, and a step abandoned by its run (which cannot be stopped) holds up neither other
runs nor the process."""

from __future__ import annotations

import asyncio
import contextvars
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import WorkflowCancelledByUser
from agentflow.events import StartEvent, StopEvent
from agentflow.runtime.daemon_threads import DaemonThreads, run_in_daemon_thread

REPO_ROOT = Path(__file__).resolve().parents[2]

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


class Blocked(Workflow):
    """Its one sync step tells the loop it has started, then blocks until released."""

    release: ClassVar[threading.Event]
    entered: ClassVar[asyncio.Queue[None]]
    loop: ClassVar[asyncio.AbstractEventLoop]

    @step
    def block(self, ev: StartEvent) -> StopEvent:
        type(self).loop.call_soon_threadsafe(type(self).entered.put_nowait, None)
        type(self).release.wait()
        return StopEvent()


class Quick(Workflow):
    @step
    def answer(self, ctx: Context, ev: StartEvent) -> StopEvent:
        return StopEvent(result=(request_id.get(), ctx.current_step))


async def test_abandoned_sync_steps_do_not_delay_a_healthy_run() -> None:
    loop = asyncio.get_running_loop()
    # As many abandoned steps as the loop's default executor has threads.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2))
    Blocked.release, Blocked.entered, Blocked.loop = threading.Event(), asyncio.Queue(), loop
    try:
        for _ in range(2):
            handler = Blocked(timeout=None).run()
            await Blocked.entered.get()
            await handler.cancel_run()
            with pytest.raises(WorkflowCancelledByUser):
                await handler
        # Before, this run's step waited for an executor thread until its timeout.
        assert await Quick(timeout=10).run() == ("unset", "answer")
    finally:
        Blocked.release.set()


async def test_a_sync_step_sees_the_context_variables_of_the_code_that_started_the_run() -> None:
    token = request_id.set("r-42")
    try:
        handler = Quick().run()
    finally:
        request_id.reset(token)
    assert await handler == ("r-42", "answer")


async def test_an_exception_in_a_sync_step_fails_the_run_with_it() -> None:
    class Raises(Workflow):
        @step
        def fail(self, ev: StartEvent) -> StopEvent:
            raise LookupError("no such row")

    with pytest.raises(LookupError, match="no such row") as caught:
        await Raises().run()
    assert "raised in step 'fail' of workflow Raises" in caught.value.__notes__


ABANDONS_A_STEP = textwrap.dedent(
    """
    import asyncio, threading
    from agentflow import Workflow, step
    from agentflow.errors import WorkflowCancelledByUser
    from agentflow.events import StartEvent, StopEvent

    never = threading.Event()

    class Stuck(Workflow):
        @step
        def wait_forever(self, ev: StartEvent) -> StopEvent:
            ev.entered()
            never.wait()
            return StopEvent()

    async def main():
        loop = asyncio.get_running_loop()
        entered = loop.create_future()
        handler = Stuck(timeout=None).run(
            entered=lambda: loop.call_soon_threadsafe(entered.set_result, None)
        )
        await entered
        await handler.cancel_run()
        try:
            await handler
        except WorkflowCancelledByUser:
            pass

    asyncio.run(main())
    print("asyncio.run returned; step still blocked:", not never.is_set(), flush=True)
    """
)


def test_asyncio_run_returns_and_the_process_exits_while_an_abandoned_sync_step_blocks() -> None:
    try:
        finished = subprocess.run(
            [sys.executable, "-c", ABANDONS_A_STEP],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=REPO_ROOT,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"the process did not end while the abandoned step blocked: {expired}")
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "asyncio.run returned; step still blocked: True\n"


# The thread pool itself


async def test_a_thread_is_reused_once_its_call_has_returned() -> None:
    threads = DaemonThreads("test")
    first = await threads.run(threading.get_ident)
    second = await threads.run(threading.get_ident)
    assert first == second
    assert first != threading.get_ident()


async def test_a_blocking_call_runs_off_the_loop_in_a_daemon_thread() -> None:
    thread = await run_in_daemon_thread(threading.current_thread)
    assert thread is not threading.current_thread()
    assert thread.daemon


async def test_a_call_gets_a_new_thread_while_every_other_one_is_busy() -> None:
    threads = DaemonThreads("test")
    both_running = threading.Barrier(2, timeout=10)

    def meet() -> int:
        both_running.wait()  # broken unless each call has a thread of its own
        return threading.get_ident()

    first, second = await asyncio.gather(threads.run(meet), threads.run(meet))
    assert first != second


async def test_an_idle_thread_ends_after_its_idle_time() -> None:
    threads = DaemonThreads("test", idle_seconds=0.01)
    thread = await threads.run(threading.current_thread)
    thread.join(10)
    assert not thread.is_alive()
    assert thread.daemon
    # A later call starts a new thread.
    assert await threads.run(threading.current_thread) is not thread


async def test_an_abandoned_call_gives_up_its_slot() -> None:
    threads = DaemonThreads("test", max_running=1)
    release = threading.Event()
    started = asyncio.Queue[None]()
    loop = asyncio.get_running_loop()

    def block() -> None:
        loop.call_soon_threadsafe(started.put_nowait, None)
        release.wait()

    try:
        blocker = asyncio.create_task(threads.run(block))
        await started.get()
        blocker.cancel()
        # The only slot is free again although `block` still runs in its thread.
        assert await threads.run(sum, (1, 2)) == 3
    finally:
        release.set()
