"""Which failed requests `OpenAI` sends again, and when: the SDK's rules, except timeouts.

The SDK sends a request again after a connection error or a 408, 409, 429 or 5xx (or as
the server's `x-should-retry` header says), after the wait the server asks for
(`Retry-After`, up to two minutes; a longer one is not waited for) or an exponential
backoff. It sends a request that timed out again too, from the same budget. Against a slow
server that is the wrong default: the reply takes as long the next time, and a server that
answers one request at a time may still be working on the first copy, so the next one waits
behind it. The SDK has one budget for every failure and no hook to leave timeouts out, so
the client `OpenAI` builds has the SDK's retries off and `send_with_retries` runs them: the
same rules, except that a timed-out request is sent again only with `retry_timeouts` (then
at once: it has waited its timeout already). A timeout before the request went out (no
connection, or no free one in the pool, in time) is not one of those: the server never saw
the request, so it is sent again as after a connection error. Each request sent again is
logged as a warning (logger `agents.llm.openai.retries`), and a timeout that ends the call
is an `OpenAITimeoutError` saying how long was waited, how often, and how to allow more time.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import openai

from agents.llm.errors import LLMTimeoutError
from agents.llm.openai.transport import TIMEOUTS_BEFORE_SENDING

_log = logging.getLogger(__name__)

T = TypeVar("T")

_RETRIED_STATUSES = frozenset({408, 409, 429})
_LONGEST_SERVER_WAIT = 120.0  # seconds; the SDK's limit on Retry-After too
_FIRST_BACKOFF = 0.5
_LONGEST_BACKOFF = 8.0


class OpenAITimeoutError(LLMTimeoutError, openai.APITimeoutError):
    """`LLMTimeoutError` that is also the SDK's `openai.APITimeoutError`, so code written to
    catch the SDK's error keeps catching it. The timeout it names is the read timeout the
    request went out with: the client's, a per-request `timeout=`, or an httpx `Timeout`'s."""

    def __init__(
        self,
        error: openai.APITimeoutError,
        base_url: str,
        attempts: int,
        *,
        streaming: bool = False,
        without_concurrency_limit: bool = False,
    ) -> None:
        LLMTimeoutError.__init__(
            self,
            base_url,
            _read_timeout(error),
            attempts,
            streaming=streaming,
            without_concurrency_limit=without_concurrency_limit,
            allow_more="Allow more time with OPENAI_TIMEOUT=<seconds>, OpenAI(timeout=<seconds>) "
            "or --llm-timeout <seconds> (agentflow run, the examples)",
        )
        # The SDK error's fields (request, message, body) without its fixed message.
        openai.APIConnectionError.__init__(self, message=str(self), request=error.request)


@dataclass(frozen=True)
class RetryRules:
    """How often a failed request is sent again."""

    max_retries: int
    """How many times a request is sent again after a failure the SDK would send it again
    for; 0 to send every request once."""
    retry_timeouts: bool = False
    """Whether a request that timed out is sent again (within `max_retries`)."""

    def delay(self, error: openai.APIError, retries_taken: int) -> float | None:
        """Seconds to wait before sending the request that failed with `error` again, or
        None to give up."""
        if retries_taken >= self.max_retries:
            return None
        if isinstance(error, openai.APITimeoutError) and not _never_sent(error):
            return 0.0 if self.retry_timeouts else None
        if isinstance(error, openai.APIConnectionError):  # a timeout never sent among them
            return _backoff(retries_taken)
        if isinstance(error, openai.APIStatusError):
            return _status_delay(error.status_code, error.response.headers, retries_taken)
        return None


async def send_with_retries(
    send: Callable[[], Awaitable[T]],
    rules: RetryRules,
    timed_out: Callable[[openai.APITimeoutError, int], Exception],
) -> tuple[T, int]:
    """What `send()` returns, and how many times it was sent (counting the SDK's own
    attempts, for a client with retries of its own), sending it again as `rules` allow.
    The last timeout is raised as `timed_out(error, attempts)`; other errors as they are.
    A loop rather than tenacity: each rule reads the error (its type, its headers), so
    tenacity's stop, wait and retry would each be one of these functions anyway."""
    retries = 0
    while True:
        try:
            return await send(), retries + 1
        except openai.APIError as error:
            delay = rules.delay(error, retries)
            if delay is None:
                if isinstance(error, openai.APITimeoutError):
                    raise timed_out(error, retries + _sdk_attempts(error)) from error
                raise
            _log.warning(
                "%s %s: %s; sending it again%s (retry %d of %d)",
                error.request.method,
                error.request.url,
                _what_failed(error),
                f" in {delay:.2f} s" if delay else "",
                retries + 1,
                rules.max_retries,
            )
        retries += 1
        await asyncio.sleep(delay)


def _never_sent(error: openai.APITimeoutError) -> bool:
    # The SDK raises its timeout error from the HTTP client's, which says when time ran out.
    return isinstance(error.__cause__, TIMEOUTS_BEFORE_SENDING)


def _what_failed(error: openai.APIError) -> str:
    if isinstance(error, openai.APITimeoutError) and _never_sent(error):
        return "not sent: no connection in time"
    if isinstance(error, openai.APITimeoutError):
        read = _read_timeout(error)
        return "no reply in time" if read is None else f"no reply within {read:g} s"
    return str(error).rstrip(".")


def _read_timeout(error: openai.APIError) -> float | None:
    """The read timeout the request went out with (httpx keeps it on the request)."""
    read: float | None = (error.request.extensions.get("timeout") or {}).get("read")
    return read


def _sdk_attempts(error: openai.APIError) -> int:
    # The SDK numbers each try in a header: more than one for a client of its own retries.
    return int(error.request.headers.get("x-stainless-retry-count", "0")) + 1


def _backoff(retries_taken: int) -> float:
    """Exponential, up to 8 s, less up to a quarter at random (the SDK's)."""
    ceiling = min(_FIRST_BACKOFF * 2.0**retries_taken, _LONGEST_BACKOFF)
    return ceiling * (1 - 0.25 * random.random())


def _status_delay(status: int, headers: Mapping[str, str], retries_taken: int) -> float | None:
    asked = _server_wait(headers)
    if asked is not None and asked > _LONGEST_SERVER_WAIT:
        return None
    verdict = headers.get("x-should-retry")
    if verdict == "false":
        return None
    if verdict != "true" and status not in _RETRIED_STATUSES and status < 500:
        return None
    return asked if asked is not None and asked > 0 else _backoff(retries_taken)


def _server_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks to wait: `retry-after-ms`, else `retry-after` in seconds or
    as an HTTP date; None when it asks nothing readable."""
    for name, seconds in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers[name]) * seconds
        except (KeyError, ValueError):
            continue
    try:
        when = email.utils.parsedate_to_datetime(headers.get("retry-after", ""))
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" or no zone: an HTTP date is in UTC all the same
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()
