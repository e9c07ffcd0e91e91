"""`MCPTool`: one tool of an MCP server, as a `FunctionTool` every agent accepts.

Its schema is the server's own JSON schema (`MCPToolMetadata.get_parameters_dict`), passed
to the model unchanged; its arguments go to the server unvalidated, since the server
validates them against that schema and answers an invalid call with an error result the
model reads. A call goes through the `MCPToolSet` the tool came from, which holds the
session, applies the timeout and reconnects; the toolset is the tool's `session`, which an
agent run holds for all its turns (`tools.sessions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from tools.function_tool import FunctionTool
from tools.metadata import ToolMetadata
from tools.output import ToolOutput
from tools.tasks import run_coroutine_blocking

if TYPE_CHECKING:
    from tools.mcp.toolset import MCPToolSet


class MCPArguments(BaseModel):
    """The arguments of an MCP tool: any keys (the server validates them)."""

    model_config = ConfigDict(extra="allow")


@dataclass(slots=True)
class MCPToolMetadata(ToolMetadata):
    """`ToolMetadata` whose schema is the MCP server's JSON schema, as listed."""

    input_schema: dict[str, Any] = field(default_factory=dict)
    """The tool's `inputSchema`, as the server listed it."""
    remote_name: str = ""
    """The tool's name on the server (`name` is it with the toolset's prefix)."""

    def get_parameters_dict(self) -> dict[str, Any]:
        """The server's input schema (without `$schema` and `title`, which tell a model
        nothing)."""
        schema = {k: v for k, v in self.input_schema.items() if k not in ("$schema", "title")}
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        return schema


class MCPTool(FunctionTool):
    """A tool an MCP server offers; made by `MCPToolSet`, called through it."""

    metadata: MCPToolMetadata

    def __init__(
        self, toolset: MCPToolSet, metadata: MCPToolMetadata, timeout: float | None
    ) -> None:
        super().__init__(self._call_remote, metadata, timeout=timeout)
        self.toolset = toolset
        """The toolset whose session the calls use."""
        self.session = toolset

    def __repr__(self) -> str:
        return f"MCPTool(name={self.name!r}, server={self.toolset.server!r})"

    async def invoke(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ToolOutput:
        """Call the tool on the server with keyword arguments; every failure is an error
        output (see `MCPToolSet.call`). Traced by `FunctionTool.execute`, as any tool."""
        if args:
            return ToolOutput(
                tool_name=self.name,
                content=f"Error: MCP tool '{self.name}' takes keyword arguments only, got "
                f"{len(args)} positional",
                raw_input=dict(kwargs),
                is_error=True,
            )
        return await self.toolset.call(self, kwargs)

    def call(self, /, *args: Any, **kwargs: Any) -> ToolOutput:
        """`acall` for synchronous code, on an event loop of its own (and so a session of
        its own, unless one is open there)."""
        return run_coroutine_blocking(lambda: self.acall(*args, **kwargs), self.name)

    async def _call_remote(self, **kwargs: Any) -> ToolOutput:
        return await self.invoke((), kwargs)
