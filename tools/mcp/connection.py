"""`MCPConnection`: one MCP client session, held open by a task of its own.

The `mcp` SDK's transports are anyio context managers whose task groups and cancel scopes
must be left by the task that entered them. A session shared by tool calls running in
several tasks (an agent's parallel calls) therefore lives in one owner task:

```
 open()  ── starts ──> owner task: async with transport, Client: ready ── waits for close
 calls   ── client.call_tool(...) from any task (requests travel over the session's streams)
 close() ── tells the owner to leave its `async with` (the SDK stops the server process,
            or ends the HTTP session) and waits until it has, even if the caller is cancelled
```

Whoever calls `open()` owns the connection and must `close()` it: the owner task never
outlives that. `MCPToolSet` is that owner.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from tools.errors import MCPConnectionError

if TYPE_CHECKING:
    from mcp import Client

logger = logging.getLogger(__name__)

ClientFactory = Callable[[AsyncExitStack], Awaitable["Client"]]
"""Makes the (un-entered) `mcp.Client` of one connection; what it needs besides (an HTTP
client) it enters on the exit stack, which the owner task leaves after the client."""


class MCPConnection:
    """One session with an MCP server; `open()` it, use `client`, then `close()` it."""

    def __init__(self, make_client: ClientFactory, server: str) -> None:
        self._make_client = make_client
        self.server = server
        """How the server is named in errors: its command line or URL."""
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        """The open session's client."""
        if self._client is None:
            raise MCPConnectionError(f"the connection to MCP server {self.server} is not open")
        return self._client

    async def open(self) -> Client:
        """Start the owner task and wait for the handshake. Raises `MCPConnectionError` when
        the server cannot be reached; a cancelled caller leaves nothing running."""
        ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._hold(ready), name=f"MCP session {self.server}")
        try:
            either: list[asyncio.Future[Any]] = [ready, self._task]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            await self.close()
            raise
        if not ready.done():  # the owner task ended before the handshake finished
            await self.close()
        self._client = ready.result()
        return self._client

    async def close(self) -> None:
        """Leave the session and wait until the owner task has ended (the server process is
        stopped by then). Waits through a cancel of the caller, and raises it afterwards:
        a process left running is worse than a late cancel."""
        task, self._client = self._task, None
        self._closing.set()
        if task is None:
            return
        cancelled = False
        while not task.done():
            try:
                await asyncio.wait([task])
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError

    async def _hold(self, ready: asyncio.Future[Client]) -> None:
        try:
            async with AsyncExitStack() as stack:
                client = await stack.enter_async_context(await self._make_client(stack))
                ready.set_result(client)
                await self._closing.wait()
        except Exception as error:
            if not ready.done():
                failure = MCPConnectionError(
                    f"could not connect to MCP server {self.server}: "
                    f"{type(error).__name__}: {_describe(error)}"
                )
                failure.__cause__ = error
                ready.set_exception(failure)
            else:
                # The session had been serving: its calls have their own errors; this is
                # only the transport's complaint on the way out (a server that had died).
                logger.debug("MCP session %s ended with %r", self.server, error)
        except asyncio.CancelledError:
            if not ready.done():
                ready.cancel()
            raise


def _describe(error: BaseException) -> str:
    """An exception's message, the first of a group's members for the task groups the SDK's
    transports raise from."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return str(error) or type(error).__name__
