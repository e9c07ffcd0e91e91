"""tools.sessions: a run holds each of its tools' sessions once, and lets go of them all,
together, however their releases end."""

from __future__ import annotations

import asyncio

import pytest

from tools import FunctionTool
from tools.sessions import hold_sessions


class Session:
    """Counts its holders; a release waits until the test lets it finish."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.holders = 0
        self.failure = failure
        self.releasing = asyncio.Event()
        self.finish = asyncio.Event()

    def hold(self) -> None:
        self.holders += 1

    async def release(self) -> None:
        self.releasing.set()
        await self.finish.wait()
        self.holders -= 1
        if self.failure is not None:
            raise self.failure


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def with_session(session: Session | None, name: str) -> FunctionTool:
    tool = FunctionTool.from_defaults(add, name=name)
    tool.session = session
    return tool


async def test_tools_without_sessions_hold_nothing() -> None:
    assert hold_sessions([FunctionTool.from_defaults(add)]) is None
    assert hold_sessions([]) is None


async def test_each_session_is_held_once_and_released_with_the_others() -> None:
    first, second = Session(), Session()
    tools = [
        with_session(first, "a"),
        with_session(first, "b"),
        with_session(second, "c"),
        with_session(None, "d"),
    ]

    release = hold_sessions(tools)

    assert release is not None
    assert (first.holders, second.holders) == (1, 1)
    releasing = asyncio.create_task(release())
    await first.releasing.wait()
    await second.releasing.wait()  # released together: both under way at once
    first.finish.set()
    second.finish.set()
    await releasing
    assert (first.holders, second.holders) == (0, 0)


async def test_a_release_that_fails_does_not_keep_the_others_held() -> None:
    failing, other = Session(OSError("would not close")), Session()
    release = hold_sessions([with_session(failing, "a"), with_session(other, "b")])
    assert release is not None
    failing.finish.set()
    other.finish.set()

    with pytest.raises(OSError, match="would not close"):
        await release()
    assert (failing.holders, other.holders) == (0, 0)
