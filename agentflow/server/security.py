"""What keeps a server safe by default: a bearer token on every route but `/health`, and a
limit on the size of a request body, counted while it is read.

The token check is a plain ASGI middleware, so that it guards streams too and runs before
any route reads a byte of the body. Starlette's `CORSMiddleware` (added only with
`cors_origins`) sits outside it, so that a browser's preflight is answered without a token.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from agentflow.server.errors import ApiError
from agentflow.server.page import PAGE_PATHS

OPEN_PATHS = frozenset({"/health", *PAGE_PATHS})
"""The routes that need no token: a load balancer's health probe has none, and a browser
opening the run viewer page cannot send one (the page holds no data; it asks for the token
and sends it to the data routes itself)."""


class BearerTokenMiddleware:
    """Refuses, with 401, every HTTP request to a route outside `OPEN_PATHS` whose
    `Authorization` header is not `Bearer <token>`; compared in constant time. The token is
    read at each request (`token()`; empty or None: no check), so that one set after the
    app was made (`agentflow serve --token-env`) still applies."""

    def __init__(self, app: ASGIApp, token: Callable[[], str | None]) -> None:
        self.app = app
        self._token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = self._token()
        if scope["type"] != "http" or not token or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                given = value
                break
        if hmac.compare_digest(given, f"Bearer {token}".encode()):
            await self.app(scope, receive, send)
            return
        detail = "missing bearer token" if not given else "wrong bearer token"
        body = json.dumps({"detail": f"Authorization: {detail}"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def read_json_body(request: Request, limit: int) -> Any:
    """The request's JSON body, read up to `limit` bytes: 413 as soon as more arrive
    (whatever `Content-Length` claims), 400 for a body that is not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body of {declared} bytes is over the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ApiError(400, f"request body is not JSON: {error}") from None
