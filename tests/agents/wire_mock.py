"""respx at the wire for both HTTP stacks a test meets: `httpcore` and `httpcore2`.

openai 3.x sends through `httpx2`, whose transport hands requests to `httpcore2`; respx
patches only `httpcore` (and `httpx`), so its default mocker lets the 3.x SDK's own client
through to the network. `WireMocker` is a respx `Mocker` (respx's extension point: a
subclass with a unique `name`, the classes and methods to patch, and the conversions to and
from httpx) that patches the connection pools of both stacks, so one router answers the
SDK's default client (2.x or 3.x) and the tools' httpx requests alike.

It is written by hand because respx has no httpx2 support; it converts only the request and
response objects and leaves routing, assertions and side effects to respx.
"""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

import httpcore
import httpx
import respx
from respx.mocks import HTTPCoreMocker

_HTTPCORE2 = importlib.util.find_spec("httpcore2") is not None

_POOL_CLASSES = (
    "_sync.connection.HTTPConnection",
    "_sync.connection_pool.ConnectionPool",
    "_sync.http_proxy.HTTPProxy",
    "_async.connection.AsyncHTTPConnection",
    "_async.connection_pool.AsyncConnectionPool",
    "_async.http_proxy.AsyncHTTPProxy",
)


class WireMocker(HTTPCoreMocker):
    """respx's httpcore mocker, extended to httpcore2 (openai 3.x's stack) when installed.

    The two stacks' request objects have the same fields, so respx's conversion to an httpx
    request serves both; a response goes back as the class of the stack that asked. An httpx
    error a route raises passes through httpx2 unchanged, and the SDK takes it as a network
    failure (it accepts httpx's errors as well as httpx2's).
    """

    name = "httpcore+httpcore2"
    targets: ClassVar[list[str]] = [f"httpcore.{path}" for path in _POOL_CLASSES] + (
        [f"httpcore2.{path}" for path in _POOL_CLASSES] if _HTTPCORE2 else []
    )
    target_methods: ClassVar[list[str]] = ["handle_request", "handle_async_request"]

    @classmethod
    def from_sync_httpx_response(
        cls, httpx_response: httpx.Response, target: Any, **kwargs: Any
    ) -> Any:
        response_class: Any = httpcore.Response
        if type(kwargs["request"]).__module__.startswith("httpcore2"):
            import httpcore2

            response_class = httpcore2.Response
        return response_class(
            status=httpx_response.status_code,
            headers=httpx_response.headers.raw,
            content=httpx_response.stream,
            extensions=httpx_response.extensions,
        )


def mock_wire(**kwargs: Any) -> respx.MockRouter:
    """`respx.mock(**kwargs)` answering both HTTP stacks (see `WireMocker`)."""
    return respx.mock(using=WireMocker.name, **kwargs)
