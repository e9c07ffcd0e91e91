"""`agentflow run`'s console in-process: answers read from stdin off the event loop, in the
runtime's daemon threads."""

from __future__ import annotations

import asyncio
import io
import threading

from agentflow.cli.console import RunConsole
from agentflow.runtime.daemon_threads import DEFAULT_MAX_RUNNING, run_in_daemon_thread


class RecordingInput(io.StringIO):
    """Standard input that notes the thread each line is read in."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.readers: list[threading.Thread] = []

    def readline(self, size: int | None = -1, /) -> str:
        self.readers.append(threading.current_thread())
        return super().readline(size)


class BrokenInput(io.StringIO):
    def readline(self, size: int | None = -1, /) -> str:
        raise OSError("stdin went away")


def console(stdin: io.StringIO) -> RunConsole:
    return RunConsole(io.StringIO(), io.StringIO(), stdin, status=False)


async def test_answers_are_read_off_the_loop_by_one_reused_daemon_thread() -> None:
    stdin = RecordingInput("Ada\nhappy\nyes\n")
    terminal = console(stdin)
    answers = [await terminal.ask(f"{question}? ") for question in ("Name", "Mood", "Sure")]
    assert answers == ["Ada", "happy", "yes"]
    # Before, each prompt started a thread of its own.
    (reader,) = set(stdin.readers)
    assert reader is not threading.current_thread()
    assert reader.daemon


async def test_the_end_of_input_or_a_failed_read_is_no_answer() -> None:
    assert await console(io.StringIO("")).ask("Name? ") is None
    assert await console(BrokenInput()).ask("Name? ") is None


async def test_a_prompt_given_up_leaves_the_next_one_answered() -> None:
    release = threading.Event()
    loop = asyncio.get_running_loop()
    reading: asyncio.Queue[None] = asyncio.Queue()

    class Blocking(io.StringIO):
        def readline(self, size: int | None = -1, /) -> str:
            loop.call_soon_threadsafe(reading.put_nowait, None)
            release.wait()
            return "late\n"

    try:
        asking = asyncio.create_task(console(Blocking()).ask("Name? "))
        await reading.get()
        asking.cancel()
        await asyncio.gather(asking, return_exceptions=True)
        assert asking.cancelled()
        assert await console(io.StringIO("Bo\n")).ask("Name? ") == "Bo"
    finally:
        release.set()


async def test_a_prompt_is_read_while_sync_steps_fill_every_thread_slot() -> None:
    # Sync steps may block until the answer comes (one waits for another step that the
    # answer starts): the read must not queue behind them.
    release = threading.Event()
    loop = asyncio.get_running_loop()
    started: asyncio.Queue[None] = asyncio.Queue()

    def block() -> None:
        loop.call_soon_threadsafe(started.put_nowait, None)
        release.wait()

    blockers = [
        asyncio.create_task(run_in_daemon_thread(block)) for _ in range(DEFAULT_MAX_RUNNING)
    ]
    try:
        for _ in blockers:
            await started.get()
        answer = await asyncio.wait_for(console(io.StringIO("Ada\n")).ask("Name? "), 10)
        assert answer == "Ada"
    finally:
        release.set()
        await asyncio.gather(*blockers)
