"""`MCPToolSet`: the tools of one MCP server, for any agent.

```python
async with MCPToolSet.stdio("python", ["files_server.py"], prefix="files_") as files:
    agent = FunctionAgent(tools=files.tools, llm=llm)
    await agent.run("What is in notes.txt?")
```

The session is shared by whoever holds it: an `async with` block (one session for the
block), an agent run (one for the run, all its turns: `hold()` as it starts, `release()` as
it ends, which the prebuilt workflows do for their tools through `tools.sessions`), and each
call under way. The first call opens it, and the last holder to let go closes it: without a
block, a run's calls share one session, which the run's end closes, while calls made
outside a run share one only as long as they overlap; `list_tools()` alone opens one just
to list. Runs that overlap (of one agent, or of agents given the same toolset's tools)
share the session, as calls in one block do: a toolset is one server connection, its tools
bound to it, so a run that needs a server state of its own uses a toolset of its own.
Whatever the outcome (a result, an error, a timeout, the caller cancelled) the server
process is stopped, or the HTTP session ended, before the last holder returns.

A call whose server went away (its process ended, its connection closed) reconnects once
and is sent again; if that fails too the output is an error naming `MCPServerGoneError`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from agentflow.extras import extra_needed
from tools.errors import (
    MCPConnectionError,
    MCPServerGoneError,
    MCPSessionNotHeldError,
    MCPToolCallError,
    MCPToolNotOnServerError,
    MCPToolsNotListedError,
)
from tools.mcp.connection import MCPConnection
from tools.mcp.results import to_tool_output
from tools.mcp.tool import MCPArguments, MCPTool, MCPToolMetadata
from tools.output import ToolOutput

with extra_needed("mcp", "tools.mcp"):
    import anyio
    from mcp import Client, MCPError, StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

if TYPE_CHECKING:
    from mcp_types import Tool

_GONE = (anyio.ClosedResourceError, anyio.BrokenResourceError, BrokenPipeError)
"""What a request raises when the session's streams are closed under it (a server that
died before the SDK noticed), besides `MCPError(CONNECTION_CLOSED)`."""


class MCPToolSet:
    """The tools of one MCP server, over stdio (`MCPToolSet.stdio`) or streamable HTTP
    (`MCPToolSet.http`)."""

    def __init__(
        self,
        server: StdioServerParameters | str,
        *,
        headers: Mapping[str, str] | None = None,
        prefix: str = "",
        allow: Collection[str] | None = None,
        timeout: float | None = None,
        timeouts: Mapping[str, float] | None = None,
    ) -> None:
        """`server` is what `mcp.Client` takes: stdio parameters or a URL. Prefer the
        `stdio` and `http` constructors, which say the same with their arguments."""
        self._server = server
        self._headers = dict(headers or {})
        self.prefix = prefix
        """Put before each server tool's name, so that two servers' tools cannot clash."""
        self.allow = None if allow is None else frozenset(allow)
        """The server's names of the tools to offer; None for all."""
        self.timeout = timeout
        """Seconds a call may take before it ends in an error output; None for no limit."""
        self.timeouts = dict(timeouts or {})
        """Per-tool timeouts by the server's tool name, over `timeout`."""
        self.errlog: TextIO | None = None
        """Where a stdio server's stderr goes: this process's own stderr by default (the
        real one: a replaced `sys.stderr`, as in Jupyter or pytest, has no file to pass)."""
        self._tools: list[MCPTool] | None = None
        self._connection: MCPConnection | None = None
        self._holders = 0
        self._connecting = asyncio.Lock()

    @classmethod
    def stdio(
        cls,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        prefix: str = "",
        allow: Collection[str] | None = None,
        timeout: float | None = None,
        timeouts: Mapping[str, float] | None = None,
    ) -> MCPToolSet:
        """A server started as a subprocess (`command args...`) speaking MCP on its stdin and
        stdout; `env` is added to a minimal environment (PATH, HOME, ...)."""
        parameters = StdioServerParameters(
            command=command, args=list(args), env=dict(env) if env else None, cwd=cwd
        )
        return cls(parameters, prefix=prefix, allow=allow, timeout=timeout, timeouts=timeouts)

    @classmethod
    def http(
        cls,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        prefix: str = "",
        allow: Collection[str] | None = None,
        timeout: float | None = None,
        timeouts: Mapping[str, float] | None = None,
    ) -> MCPToolSet:
        """A server at `url` speaking streamable HTTP; `headers` go with every request (an
        `Authorization`, say)."""
        return cls(
            url, headers=headers, prefix=prefix, allow=allow, timeout=timeout, timeouts=timeouts
        )

    @property
    def server(self) -> str:
        """The server's command line or URL, as errors name it."""
        if isinstance(self._server, str):
            return self._server
        return " ".join([self._server.command, *self._server.args])

    @property
    def tools(self) -> list[MCPTool]:
        """The tools listed by `list_tools()` or on entering `async with`."""
        if self._tools is None:
            raise MCPToolsNotListedError(
                f"the tools of MCP server {self.server} are not listed yet: use "
                "`async with toolset:` or `await toolset.list_tools()` first"
            )
        return list(self._tools)

    def __iter__(self) -> Iterator[MCPTool]:
        return iter(self.tools)

    def __repr__(self) -> str:
        return f"MCPToolSet({self.server!r}, prefix={self.prefix!r})"

    async def __aenter__(self) -> MCPToolSet:
        """Open the session for the block and list the tools."""
        self.hold()
        try:
            await self._list(await self._open())
        except BaseException:
            await self.release()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.release()

    async def list_tools(self) -> list[MCPTool]:
        """List the server's tools (those `allow` names), as tools for an agent. Raises
        `MCPConnectionError` when the server cannot be reached, `MCPToolNotOnServerError`
        when `allow` names a tool it does not offer."""
        self.hold()
        try:
            return await self._list(await self._open())
        finally:
            await self.release()

    async def call(self, tool: MCPTool, arguments: dict[str, Any]) -> ToolOutput:
        """Call `tool` on the server; every failure but the caller's cancellation is an
        error output."""
        self.hold()
        try:
            return await self._call(tool, arguments)
        finally:
            await self.release()

    async def _call(self, tool: MCPTool, arguments: dict[str, Any]) -> ToolOutput:
        try:
            connection = await self._open()
        except MCPConnectionError as error:
            return _error(tool.name, arguments, str(error), error)
        for attempt in (1, 2):
            try:
                result = await connection.client.call_tool(
                    tool.metadata.remote_name, arguments, read_timeout_seconds=tool.timeout
                )
                return to_tool_output(tool.name, arguments, result)
            except MCPError as error:
                if error.code == REQUEST_TIMEOUT:
                    return self._timed_out(tool, arguments, error)
                if error.code != CONNECTION_CLOSED:
                    return self._refused(tool, arguments, error)
                gone: BaseException = error
            except _GONE as error:
                gone = error
            if attempt == 2:
                return self._gone(tool, arguments, gone)
            try:
                connection = await self._reconnect(connection)
            except MCPConnectionError as error:
                return self._gone(tool, arguments, error)
        raise AssertionError("unreachable: the second attempt returns")

    # -- the shared session -------------------------------------------------------------

    def hold(self) -> None:
        """Keep the session open until the matching `release()`: the calls made meanwhile
        share one, which the first of them opens. Opens nothing itself."""
        self._holders += 1

    async def release(self) -> None:
        """Let go of one `hold()`. The last holder to let go closes the session: the
        server process is stopped, or the HTTP session ended, before this returns, even
        when the caller is cancelled meanwhile (it gets its CancelledError after)."""
        if self._holders == 0:
            raise MCPSessionNotHeldError(
                f"MCPToolSet.release() for MCP server {self.server}, which nothing holds: "
                "each release() must follow a hold() of its own"
            )
        self._holders -= 1
        if self._holders == 0 and self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()

    async def _open(self) -> MCPConnection:
        """The open session, opened now if none is; for a holder only."""
        async with self._connecting:
            if self._connection is None:
                connection = MCPConnection(self._make_client, self.server)
                await connection.open()
                self._connection = connection
            return self._connection

    async def _reconnect(self, broken: MCPConnection) -> MCPConnection:
        """A new session in place of `broken` (unless another call replaced it already)."""
        async with self._connecting:
            if self._connection is broken:
                self._connection = None
                await broken.close()
                connection = MCPConnection(self._make_client, self.server)
                await connection.open()
                self._connection = connection
            if self._connection is None:
                raise MCPConnectionError(f"the session with MCP server {self.server} closed")
            return self._connection

    async def _make_client(self, stack: AsyncExitStack) -> Client:
        if isinstance(self._server, StdioServerParameters):
            errlog = self.errlog or _process_stderr(stack)
            return Client(stdio_client(self._server, errlog=errlog), cache=None)
        http = await stack.enter_async_context(create_mcp_http_client(headers=self._headers))
        return Client(streamable_http_client(self._server, http_client=http), cache=None)

    # -- listing ------------------------------------------------------------------------

    async def _list(self, connection: MCPConnection) -> list[MCPTool]:
        listed: list[Tool] = []
        cursor: str | None = None
        while True:
            page = await connection.client.list_tools(cursor=cursor)
            listed.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        if self.allow is not None:
            missing = self.allow - {tool.name for tool in listed}
            if missing:
                raise MCPToolNotOnServerError(
                    f"MCP server {self.server} offers no tool named "
                    f"{', '.join(sorted(missing))} (allow-list); it offers: "
                    f"{', '.join(tool.name for tool in listed) or '(none)'}"
                )
            listed = [tool for tool in listed if tool.name in self.allow]
        self._tools = [self._tool(tool) for tool in listed]
        return list(self._tools)

    def _tool(self, tool: Tool) -> MCPTool:
        annotations = tool.annotations
        metadata = MCPToolMetadata(
            name=f"{self.prefix}{tool.name}",
            description=tool.description or tool.title or f"Call {tool.name}.",
            fn_schema=MCPArguments,
            # MCP's default is that a tool may change things, unless it says it only reads.
            side_effects=not (annotations is not None and annotations.read_only_hint),
            input_schema=dict(tool.input_schema),
            remote_name=tool.name,
        )
        return MCPTool(self, metadata, self.timeouts.get(tool.name, self.timeout))

    # -- error outputs ------------------------------------------------------------------

    def _timed_out(self, tool: MCPTool, arguments: dict[str, Any], error: MCPError) -> ToolOutput:
        timeout = TimeoutError(
            f"MCP tool '{tool.name}' did not finish within its timeout of {tool.timeout} s "
            f"(server {self.server}); the call was cancelled"
        )
        timeout.__cause__ = error
        return _error(tool.name, arguments, str(timeout), timeout)

    def _refused(self, tool: MCPTool, arguments: dict[str, Any], error: MCPError) -> ToolOutput:
        refused = MCPToolCallError(
            f"MCP server {self.server} refused the call of tool '{tool.name}' "
            f"(error {error.code}): {error.message}"
        )
        refused.__cause__ = error
        return _error(tool.name, arguments, str(refused), refused)

    def _gone(self, tool: MCPTool, arguments: dict[str, Any], error: BaseException) -> ToolOutput:
        gone = MCPServerGoneError(
            f"MCP server {self.server} went away during the call of tool '{tool.name}', "
            f"and again after reconnecting once ({type(error).__name__}: {error})"
        )
        gone.__cause__ = error
        return _error(tool.name, arguments, f"MCPServerGoneError: {gone}", gone)


def _process_stderr(stack: AsyncExitStack) -> TextIO:
    """The process's stderr (file descriptor 2), or the null device when it has none."""
    stderr = sys.__stderr__
    if stderr is not None and _has_file(stderr):
        return stderr
    return stack.enter_context(open(os.devnull, "w"))


def _has_file(stream: TextIO) -> bool:
    try:
        return stream.fileno() >= 0
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return False


def _error(name: str, arguments: dict[str, Any], message: str, error: BaseException) -> ToolOutput:
    return ToolOutput(
        tool_name=name,
        content=f"Error: {message}",
        raw_input=arguments,
        raw_output=error,
        is_error=True,
    )
