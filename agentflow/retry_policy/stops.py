"""Stop conditions: when to give up retrying.

Each is called with the number of attempts made, the seconds since the first began and the
coming sleep, as in LlamaIndex Workflows, or with a tenacity `RetryCallState`. `|` and `&`
combine them, tenacity's own included.
"""

from __future__ import annotations

from typing import Any, Protocol

from tenacity import RetryCallState
from tenacity.stop import stop_base

from agentflow.retry_policy.call_state import as_part, call_state, elapsed_of
from agentflow.retry_policy.waits import time_unit_type, to_seconds


class StopCondition(Protocol):
    """True when no attempt should follow the `attempts` made so far."""

    def __call__(
        self, attempts: int, elapsed_time: float, *, upcoming_sleep: float = 0.0
    ) -> bool: ...


class ComposableStop:
    """What our stops share: both call protocols, and `|` and `&`."""

    def __call__(
        self,
        attempts: int | RetryCallState,
        elapsed_time: float | None = None,
        *,
        upcoming_sleep: float = 0.0,
    ) -> bool:
        if isinstance(attempts, RetryCallState):
            state = attempts
            return self.gives_up(state.attempt_number, elapsed_of(state), state.upcoming_sleep)
        if elapsed_time is None:
            raise TypeError(
                f"{type(self).__name__}() takes (attempts, elapsed_time) or a tenacity "
                "RetryCallState; elapsed_time is missing"
            )
        return self.gives_up(attempts, elapsed_time, upcoming_sleep)

    def gives_up(self, attempts: int, elapsed_time: float, upcoming_sleep: float) -> bool:
        """True to give up after `attempts` attempts, `elapsed_time` seconds after the
        first began, with `upcoming_sleep` seconds to wait before the next."""
        raise NotImplementedError

    def __or__(self, other: Any) -> stop_any:
        return stop_any(self, other)

    def __ror__(self, other: Any) -> stop_any:
        return stop_any(other, self)

    def __and__(self, other: Any) -> stop_all:
        return stop_all(self, other)

    def __rand__(self, other: Any) -> stop_all:
        return stop_all(other, self)


def ask(stop: Any, attempts: int, elapsed_time: float, upcoming_sleep: float) -> bool:
    """`stop`'s answer, in the protocol it speaks."""
    if isinstance(stop, stop_base):  # tenacity's own
        return bool(stop(call_state(attempts, elapsed_time, None, upcoming_sleep)))
    return bool(stop(attempts, elapsed_time, upcoming_sleep=upcoming_sleep))


class stop_after_attempt(ComposableStop):
    """Give up once `max_attempt_number` attempts were made."""

    def __init__(self, max_attempt_number: int) -> None:
        self.max_attempt_number = max_attempt_number

    def gives_up(self, attempts: int, elapsed_time: float, upcoming_sleep: float) -> bool:
        return attempts >= self.max_attempt_number


class stop_after_delay(ComposableStop):
    """Give up once `max_delay` has passed since the first attempt began."""

    def __init__(self, max_delay: time_unit_type) -> None:
        self.max_delay = to_seconds(max_delay)

    def gives_up(self, attempts: int, elapsed_time: float, upcoming_sleep: float) -> bool:
        return elapsed_time >= self.max_delay


class stop_before_delay(ComposableStop):
    """Give up when the next attempt would begin `max_delay` or more after the first."""

    def __init__(self, max_delay: time_unit_type) -> None:
        self.max_delay = to_seconds(max_delay)

    def gives_up(self, attempts: int, elapsed_time: float, upcoming_sleep: float) -> bool:
        return elapsed_time + upcoming_sleep >= self.max_delay


class stop_any(ComposableStop):
    """Give up when any of `stops` would (what `|` builds)."""

    def __init__(self, *stops: Any) -> None:
        self.stops = tuple(as_part(stop) for stop in stops)

    def gives_up(self, attempts: int, elapsed_time: float, upcoming_sleep: float) -> bool:
        return any(ask(stop, attempts, elapsed_time, upcoming_sleep) for stop in self.stops)


class stop_all(ComposableStop):
    """Give up when all of `stops` would (what `&` builds)."""

    def __init__(self, *stops: Any) -> None:
        self.stops = tuple(as_part(stop) for stop in stops)

    def gives_up(self, attempts: int, elapsed_time: float, upcoming_sleep: float) -> bool:
        return all(ask(stop, attempts, elapsed_time, upcoming_sleep) for stop in self.stops)


class stop_never(ComposableStop):
    """Never give up (bound the step some other way: a retry condition, a timeout)."""

    takes_no_arguments = True

    def gives_up(self, attempts: int, elapsed_time: float, upcoming_sleep: float) -> bool:
        return False
