"""Wait strategies: how long to sleep before the next attempt.

Each is called with the retry number (0 before the first retry) and an optional `seed`, as
in LlamaIndex Workflows, or with a tenacity `RetryCallState` (whose `attempt_number` is one
more). A seed makes the random ones deterministic: the delay is drawn from
`random.Random(seed)`, so one seed gives one delay, on agentflow as on the reference.
`+` and `sum()` add waits, tenacity's own included.
"""

from __future__ import annotations

import functools
import random
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar, cast

from tenacity import RetryCallState
from tenacity.wait import wait_base

from agentflow.retry_policy.call_state import as_part, call_state

time_unit_type = int | float | timedelta
"""A duration: seconds, or a `timedelta`."""


def to_seconds(duration: time_unit_type) -> float:
    """`duration` in seconds."""
    return duration.total_seconds() if isinstance(duration, timedelta) else float(duration)


def _uniform(low: float, high: float, seed: int | None) -> float:
    return random.Random(seed).uniform(low, high) if seed is not None else random.uniform(low, high)


CallableT = TypeVar("CallableT", bound=Callable[..., Any])


def _order_differs_from_tenacity(
    agreeing: int, ours: str, tenacity: str
) -> Callable[[CallableT], CallableT]:
    """Warn when `function` gets more than `agreeing` positional arguments: from there on,
    tenacity's order (`tenacity`, which agentflow re-exported) reads them otherwise than
    the reference's (`ours`), which wins. Calls by name, which mean the same in both, pass
    silently."""

    def decorate(function: CallableT) -> CallableT:
        is_method = function.__name__ == "__init__"
        limit = agreeing + is_method

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if len(args) > limit:
                name = type(args[0]).__name__ if is_method else function.__name__
                warnings.warn(
                    f"{name}() got {len(args) - is_method} positional arguments, read in "
                    f"LlamaIndex Workflows' order {ours}, not tenacity's {tenacity} (which "
                    "agentflow once followed); pass them by name to say which you mean",
                    UserWarning,
                    stacklevel=2,
                )
            return function(*args, **kwargs)

        return cast(CallableT, checked)

    return decorate


_EXPONENTIAL_ORDERS = (1, "(multiplier, exp_base, max, min)", "(multiplier, max, exp_base, min)")


class WaitStrategy(Protocol):
    """The seconds to sleep before retry number `attempts` (0 for the first retry)."""

    def __call__(self, attempts: int, *, seed: int | None = None) -> float: ...


class ComposableWait:
    """What our waits share: both call protocols, `+` and `sum()`."""

    def __call__(self, attempts: int | RetryCallState, *, seed: int | None = None) -> float:
        if isinstance(attempts, RetryCallState):
            attempts = attempts.attempt_number - 1
        return self.delay(attempts, seed)

    def delay(self, retry_number: int, seed: int | None) -> float:
        """Seconds to sleep before retry `retry_number` (0 for the first)."""
        raise NotImplementedError

    def __add__(self, other: Any) -> wait_combine:
        return wait_combine(self, other)

    def __radd__(self, other: Any) -> Any:
        if other == 0:  # sum()'s start
            return self
        if callable(other):
            return wait_combine(other, self)
        return NotImplemented


def ask(wait: Any, retry_number: int, seed: int | None) -> float:
    """`wait`'s delay before retry `retry_number`, in the protocol it speaks."""
    if isinstance(wait, wait_base):  # tenacity's own
        return float(wait(call_state(retry_number + 1, 0.0, None, 0.0)))
    return float(wait(retry_number, seed=seed))


class wait_fixed(ComposableWait):
    """The same delay before every retry."""

    def __init__(self, wait: time_unit_type) -> None:
        self.wait = to_seconds(wait)

    def delay(self, retry_number: int, seed: int | None) -> float:
        return self.wait


class wait_none(wait_fixed):
    """No delay."""

    def __init__(self) -> None:
        super().__init__(0)


class wait_exponential(ComposableWait):
    """`multiplier * exp_base ** retry_number`, kept within `[min, max]`."""

    @_order_differs_from_tenacity(*_EXPONENTIAL_ORDERS)
    def __init__(
        self,
        multiplier: float = 1.0,
        exp_base: float = 2.0,
        max: time_unit_type = 60.0,
        min: time_unit_type = 0.0,
    ) -> None:
        self.multiplier = float(multiplier)
        self.exp_base = float(exp_base)
        self.max = to_seconds(max)
        self.min = to_seconds(min)

    def delay(self, retry_number: int, seed: int | None) -> float:
        return self._bounded(retry_number)

    def _bounded(self, retry_number: int) -> float:
        return max(0.0, self.min, min(self._raw(retry_number), self.max))

    def _raw(self, retry_number: int) -> float:
        try:
            return self.multiplier * self.exp_base**retry_number
        except OverflowError:  # far past any cap: the cap is the answer
            return float("inf")


class wait_incrementing(ComposableWait):
    """`start + increment * retry_number`, kept within `[0, max]`."""

    def __init__(
        self,
        start: time_unit_type = 0.0,
        increment: time_unit_type = 100.0,
        max: time_unit_type = float("inf"),
    ) -> None:
        self.start = to_seconds(start)
        self.increment = to_seconds(increment)
        self.max = to_seconds(max)

    def delay(self, retry_number: int, seed: int | None) -> float:
        return max(0.0, min(self.start + self.increment * retry_number, self.max))


class wait_random(ComposableWait):
    """A delay drawn uniformly from `[min, max]`."""

    def __init__(self, min: time_unit_type = 0.0, max: time_unit_type = 1.0) -> None:
        self.min = to_seconds(min)
        self.max = to_seconds(max)

    def delay(self, retry_number: int, seed: int | None) -> float:
        return _uniform(self.min, self.max, seed)


class wait_exponential_jitter(ComposableWait):
    """`initial * exp_base ** retry_number` plus a random `[0, jitter]`, capped at `max`.
    `min` and `multiplier` (another name for `initial`) are tenacity's, kept for code
    written for agentflow when it re-exported tenacity's waits."""

    @_order_differs_from_tenacity(
        1, "(initial, exp_base, max, jitter)", "(initial, max, exp_base, jitter)"
    )
    def __init__(
        self,
        initial: float = 1.0,
        exp_base: float = 2.0,
        max: time_unit_type = 60.0,
        jitter: float = 1.0,
        *,
        min: time_unit_type = 0.0,
        multiplier: float | None = None,
    ) -> None:
        if multiplier is not None and initial != 1.0:
            raise ValueError(
                "wait_exponential_jitter() takes 'initial' or 'multiplier' (tenacity's name "
                "for it), not both"
            )
        self.initial = initial if multiplier is None else multiplier
        self.exp_base = exp_base
        self.max = to_seconds(max)
        self.jitter = jitter
        self.min = to_seconds(min)

    def delay(self, retry_number: int, seed: int | None) -> float:
        try:
            base = min(self.initial * self.exp_base**retry_number, self.max)
        except OverflowError:
            base = self.max
        return max(self.min, min(base + _uniform(0, self.jitter, seed), self.max))


class wait_random_exponential(wait_exponential):
    """A delay drawn uniformly from `[min, the exponential delay]` ("full jitter")."""

    def delay(self, retry_number: int, seed: int | None) -> float:
        return _uniform(self.min, self._bounded(retry_number), seed)


@_order_differs_from_tenacity(*_EXPONENTIAL_ORDERS)
def wait_full_jitter(
    multiplier: float = 1.0,
    exp_base: float = 2.0,
    max: time_unit_type = 60.0,
    min: time_unit_type = 0.0,
) -> wait_random_exponential:
    """Another name for `wait_random_exponential`."""
    return wait_random_exponential(multiplier=multiplier, exp_base=exp_base, max=max, min=min)


class wait_chain(ComposableWait):
    """The first strategy before the first retry, the second before the second, and the
    last one from then on."""

    def __init__(self, *strategies: Any) -> None:
        if not strategies:
            raise ValueError("wait_chain() needs at least one wait strategy")
        self.strategies = tuple(as_part(strategy) for strategy in strategies)

    def delay(self, retry_number: int, seed: int | None) -> float:
        strategy = self.strategies[min(retry_number, len(self.strategies) - 1)]
        return ask(strategy, retry_number, seed)


class wait_combine(ComposableWait):
    """The sum of the strategies' delays (what `+` builds); each sees the same seed."""

    def __init__(self, *strategies: Any) -> None:
        self.strategies = tuple(as_part(strategy) for strategy in strategies)

    def delay(self, retry_number: int, seed: int | None) -> float:
        return sum(ask(strategy, retry_number, seed) for strategy in self.strategies)
