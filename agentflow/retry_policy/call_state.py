"""The bridge between the two call protocols a retry part speaks.

LlamaIndex Workflows calls a condition with the exception, a wait with the retry number and
a stop with the attempt count and the elapsed time; tenacity calls all three with one
`RetryCallState`. Our parts answer both. This module turns a call state into the
reference's arguments, makes a call state for tenacity's own parts when they sit inside one
of our compositions, and accepts the classes agentflow once exported as tenacity instances.
"""

from __future__ import annotations

import inspect
import time
import warnings
from typing import Any

from tenacity import RetryCallState


def call_state(
    attempts: int, elapsed_time: float, error: BaseException | None, upcoming_sleep: float
) -> RetryCallState:
    """A call state carrying what tenacity's parts read: the attempt number, the outcome,
    the time since the first attempt and the coming sleep. It lets them decide outside
    tenacity's loop (tenacity has no way to build one from values)."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempts
    if error is not None:
        state.set_exception((type(error), error, error.__traceback__))
    state.start_time = time.monotonic() - elapsed_time
    state.outcome_timestamp = state.start_time + elapsed_time
    state.upcoming_sleep = upcoming_sleep
    return state


def failure_of(state: RetryCallState) -> BaseException | None:
    """The exception of `state`'s outcome, or None when the attempt returned a value."""
    if state.outcome is None:
        raise RuntimeError("a retry condition was called before the attempt's outcome was set")
    return state.outcome.exception() if state.outcome.failed else None


def elapsed_of(state: RetryCallState) -> float:
    """Seconds from `state`'s first attempt to its latest outcome."""
    elapsed = state.seconds_since_start
    if elapsed is None:
        raise RuntimeError("a stop condition was called before the attempt's outcome was set")
    return elapsed


def as_part(part: Any) -> Any:
    """`part`, or an instance of it when it is one of our argument-less classes
    (`retry_always`, `retry_never`, `stop_never`) passed uncalled, as agentflow's tenacity
    instances of those names once were: warned about, as that spelling is going away."""
    if isinstance(part, type) and getattr(part, "takes_no_arguments", False):
        warnings.warn(
            f"{part.__name__} is a class, as in LlamaIndex Workflows: write {part.__name__}() "
            "(agentflow once exported tenacity's instance under that name)",
            DeprecationWarning,
            stacklevel=_first_frame_outside_this_package(),
        )
        return part()
    return part


def _first_frame_outside_this_package() -> int:
    """The `stacklevel` that points a warning raised by our caller at user code, however
    many of our frames (an operator, a constructor) lie in between."""
    here = inspect.currentframe()
    frame = here.f_back.f_back if here is not None and here.f_back is not None else None
    level = 2  # the frame above our caller, which called warnings.warn
    while (
        frame is not None
        and frame.f_back is not None
        and frame.f_globals.get("__name__", "").startswith(__package__ or "")
    ):
        frame = frame.f_back
        level += 1
    return level
