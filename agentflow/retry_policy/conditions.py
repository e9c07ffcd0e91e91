"""Retry conditions: which failures are worth another attempt.

Each is called with the exception, as in LlamaIndex Workflows, or with a tenacity
`RetryCallState`, as in tenacity (an attempt that returned a value is then not retried,
except by `retry_always`, `retry_unless_exception_type` and
`retry_if_not_exception_message`, which retry it there). `|` and `&` combine them with
each other, with plain functions taking the exception and with tenacity's own conditions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from tenacity import RetryCallState
from tenacity.retry import retry_base

from agentflow.retry_policy.call_state import as_part, call_state, failure_of

ExceptionTypes = type[BaseException] | tuple[type[BaseException], ...]


class RetryCondition(Protocol):
    """Decides, from the exception an attempt raised, whether to try again."""

    def __call__(self, error: BaseException) -> bool: ...


class ComposableCondition:
    """What our conditions share: both call protocols, and `|` and `&`."""

    retries_a_returned_value = False
    """The answer, under tenacity's protocol, for an attempt that returned a value."""

    def __call__(self, error: BaseException | RetryCallState) -> bool:
        if isinstance(error, RetryCallState):
            return self.on_call_state(error)
        return self.retries_after(error)

    def retries_after(self, error: BaseException) -> bool:
        """True when an attempt that raised `error` should be tried again."""
        raise NotImplementedError

    def on_call_state(self, state: RetryCallState) -> bool:
        """The answer to tenacity's call with `state`."""
        error = failure_of(state)
        return self.retries_a_returned_value if error is None else self.retries_after(error)

    def __or__(self, other: Any) -> retry_any:
        return retry_any(self, other)

    def __ror__(self, other: Any) -> retry_any:
        return retry_any(other, self)

    def __and__(self, other: Any) -> retry_all:
        return retry_all(self, other)

    def __rand__(self, other: Any) -> retry_all:
        return retry_all(other, self)


def ask(condition: Any, error: BaseException, state: RetryCallState | None = None) -> bool:
    """`condition`'s answer for `error`, in the protocol it speaks: tenacity's own parts
    get a call state (`state` when the caller has one), anything else the exception."""
    if isinstance(condition, retry_base):
        return bool(condition(state if state is not None else call_state(1, 0.0, error, 0.0)))
    return bool(condition(error))


class retry_if_exception(ComposableCondition):
    """Retry when `predicate(error)` is true."""

    def __init__(self, predicate: Callable[[BaseException], bool]) -> None:
        self.predicate = predicate

    def retries_after(self, error: BaseException) -> bool:
        return bool(self.predicate(error))


class retry_if_exception_type(ComposableCondition):
    """Retry when the error is an instance of `exception_types`."""

    def __init__(self, exception_types: ExceptionTypes = Exception) -> None:
        self.exception_types = exception_types

    def retries_after(self, error: BaseException) -> bool:
        return isinstance(error, self.exception_types)


class retry_if_not_exception_type(retry_if_exception_type):
    """Retry unless the error is an instance of `exception_types`."""

    def retries_after(self, error: BaseException) -> bool:
        return not isinstance(error, self.exception_types)


class retry_unless_exception_type(retry_if_not_exception_type):
    """Tenacity's name for `retry_if_not_exception_type`; under tenacity's protocol it
    also retries an attempt that returned a value, as tenacity's does."""

    retries_a_returned_value = True


class retry_if_exception_message(ComposableCondition):
    """Retry when the error's message equals `message`, or when `match` (a regular
    expression) is found anywhere in it, as in LlamaIndex Workflows (tenacity's own
    anchors it at the start)."""

    def __init__(
        self, message: str | None = None, match: str | re.Pattern[str] | None = None
    ) -> None:
        name = type(self).__name__
        if message is None and match is None:
            raise TypeError(f"{name}() missing 1 required argument 'message' or 'match'")
        if message is not None and match is not None:
            raise TypeError(f"{name}() takes either 'message' or 'match', not both")
        self.message = message
        self.match = match
        self.pattern = re.compile(match) if isinstance(match, str) else match

    def retries_after(self, error: BaseException) -> bool:
        text = str(error)
        if self.message is not None:
            return text == self.message
        assert self.pattern is not None, "the constructor requires message or match"
        return self.pattern.search(text) is not None


class retry_if_not_exception_message(retry_if_exception_message):
    """Retry unless the error's message equals `message` or contains `match`."""

    retries_a_returned_value = True

    def retries_after(self, error: BaseException) -> bool:
        return not super().retries_after(error)


class retry_if_exception_cause_type(ComposableCondition):
    """Retry when an exception in the error's explicit `__cause__` chain (`raise ... from`)
    is an instance of `exception_types`."""

    def __init__(self, exception_types: ExceptionTypes = Exception) -> None:
        self.exception_types = exception_types

    def retries_after(self, error: BaseException) -> bool:
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            if isinstance(current.__cause__, self.exception_types):
                return True
            current = current.__cause__
        return False


class retry_any(ComposableCondition):
    """Retry when any of `conditions` would (what `|` builds)."""

    def __init__(self, *conditions: Any) -> None:
        self.retries = tuple(as_part(condition) for condition in conditions)

    def retries_after(self, error: BaseException) -> bool:
        return any(ask(condition, error) for condition in self.retries)

    def on_call_state(self, state: RetryCallState) -> bool:
        error = failure_of(state)
        return any(_ask_with_state(condition, state, error) for condition in self.retries)


class retry_all(ComposableCondition):
    """Retry when all of `conditions` would (what `&` builds)."""

    def __init__(self, *conditions: Any) -> None:
        self.retries = tuple(as_part(condition) for condition in conditions)

    def retries_after(self, error: BaseException) -> bool:
        return all(ask(condition, error) for condition in self.retries)

    def on_call_state(self, state: RetryCallState) -> bool:
        error = failure_of(state)
        return all(_ask_with_state(condition, state, error) for condition in self.retries)


def _ask_with_state(condition: Any, state: RetryCallState, error: BaseException | None) -> bool:
    if isinstance(condition, ComposableCondition | retry_base):
        return bool(condition(state))
    return error is not None and bool(condition(error))  # a plain function of the exception


class retry_always(ComposableCondition):
    """Always retry."""

    takes_no_arguments = True
    retries_a_returned_value = True

    def retries_after(self, error: BaseException) -> bool:
        return True


class retry_never(ComposableCondition):
    """Never retry."""

    takes_no_arguments = True

    def retries_after(self, error: BaseException) -> bool:
        return False
