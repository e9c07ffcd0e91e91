"""tools.threads: sync functions in daemon threads, context variables carried over."""

from __future__ import annotations

import contextvars
import threading

import pytest

from tools.threads import start_in_thread

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def test_result_exception_and_context_variables() -> None:
    request_id.set("r-1")

    def read() -> tuple[str, bool]:
        return request_id.get(), threading.current_thread().daemon

    assert start_in_thread(read, (), {}, "read").result(timeout=5) == ("r-1", True)

    def fail() -> None:
        raise LookupError("missing")

    with pytest.raises(LookupError, match="missing"):
        start_in_thread(fail, (), {}, "fail").result(timeout=5)


def test_thread_is_named_after_the_tool() -> None:
    name = start_in_thread(lambda: threading.current_thread().name, (), {}, "x").result(5)
    assert name == "tool x"
