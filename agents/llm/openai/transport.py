"""The errors of the HTTP client the openai SDK sends through, under either of its majors.

openai 2.x sends through httpx; 3.x through httpx2, and takes an httpx client or transport
too, so httpx's errors reach it as well. The two raise unrelated exception classes, and
neither is sure to be installed (3.x does not install httpx, which comes with our `web`
extra only), so each tuple here holds the classes of whichever of the two imports.

The SDK raises its own errors for what fails while a request is sent. What fails while a
stream is read differs: 3.x raises its `APITimeoutError` or `APIConnectionError` there too,
2.x lets the HTTP client's error out as it is. `raised_as_sdk_errors` raises such an error as
the SDK's, as 3.x does, so that `OpenAI` ends a failed stream the same way under both.
Catching the HTTP clients' public classes here, rather than reaching into the SDK's private
modules for its own lists, keeps this working across the SDK's releases.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import openai


def _error_classes(*names: str) -> tuple[type[Exception], ...]:
    """The classes called `names` in httpx and in httpx2, of those two that import."""
    classes: list[type[Exception]] = []
    for module_name in ("httpx", "httpx2"):
        with contextlib.suppress(ImportError):
            module = importlib.import_module(module_name)
            classes += [getattr(module, name) for name in names]
    return tuple(classes)


TIMEOUTS_BEFORE_SENDING = _error_classes("ConnectTimeout", "PoolTimeout")
"""Timeouts that end a request before any of it went out: no connection, or no free one in
the pool, in time. The server never saw the request."""

TIMEOUTS = _error_classes("TimeoutException")
"""Every timeout of the HTTP client: before sending, or waiting for the reply or its next
part."""

REQUEST_ERRORS = _error_classes("RequestError")
"""Every failure to send a request or read its reply (timeouts among them)."""


@contextlib.contextmanager
def raised_as_sdk_errors(request: Any) -> Iterator[None]:
    """Raises the HTTP client's errors (`REQUEST_ERRORS`) in its body as the SDK's, as openai
    3.x does while reading a stream: `openai.APITimeoutError` for a timeout, else
    `openai.APIConnectionError`, for `request`, chained to the HTTP client's error. The SDK's
    own errors pass through."""
    try:
        yield
    except TIMEOUTS as error:
        raise openai.APITimeoutError(request=request) from error
    except REQUEST_ERRORS as error:
        raise openai.APIConnectionError(request=request) from error
