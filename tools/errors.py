"""Every exception the tools package raises.

Errors raised while *defining* tools (a bad signature, a duplicate name) are exceptions,
because they are the programmer's to fix. Errors while *calling* a tool never raise: they
become a `ToolOutput` with `is_error=True`. Built-in tools raise the errors below from
inside their functions, which the calling machinery turns into such outputs.
"""

from __future__ import annotations


class ToolDefinitionError(Exception):
    """A function cannot become a tool (unsupported parameter kind, unresolvable hint)."""


class DuplicateToolError(ToolDefinitionError):
    """Two tools in one `ToolSet` have the same name."""


class ToolCancelledError(Exception):
    """A tool's call ended in CancelledError although neither its caller nor its timeout
    cancelled it (it awaited a future cancelled elsewhere, raised it itself, or cancelled
    its own task). Not a CancelledError, so that it does not pass for the caller's."""


class CalculatorError(ValueError):
    """An expression the calculator refuses or cannot evaluate."""


class PathOutsideRootError(PermissionError):
    """A file path leaves the directory the file tools are confined to."""


class URLNotAllowedError(PermissionError):
    """A URL `http_get` refuses: wrong scheme, or a private or loopback address."""


class FetchError(Exception):
    """A web request `http_get` made did not give readable text (status, type, redirects)."""


class MCPConnectionError(Exception):
    """An MCP server could not be reached: its command would not start, its URL did not
    answer, or the MCP handshake failed."""


class MCPServerGoneError(MCPConnectionError):
    """An MCP server went away (its process ended, its connection closed) during a call,
    and again after the one reconnect a call is allowed."""


class MCPToolCallError(Exception):
    """An MCP server answered a tool call with a protocol error (an unknown tool, invalid
    parameters) rather than a tool result."""


class MCPSessionNotHeldError(RuntimeError):
    """`MCPToolSet.release()` was called more often than `hold()`."""


class MCPToolsNotListedError(RuntimeError):
    """An `MCPToolSet`'s tools were asked for before they were listed from the server."""


class MCPToolNotOnServerError(ToolDefinitionError):
    """An `MCPToolSet` allow-list names a tool the server does not offer."""
