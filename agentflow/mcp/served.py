"""What an MCP client sees of a workflow or a tool: its MCP tool listing and its calls.

```
 WorkflowTool:  start-event fields ─> inputSchema      call: run(**arguments)
                streamed events    ─> notifications/progress (one per event, its class and JSON)
                the run's result   ─> the tool result (text; a dict or model also structured)
                a failed run       ─> an error result naming the exception
 ServedTool:    any tool shaped as `tools` makes them (metadata, acall) ─> its schema, its output
```

agentflow never imports `tools`: a tool is taken by its shape (`CallableTool`), which
`tools.FunctionTool` (and `tools.mcp.MCPTool`) has.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ValidationError
from pydantic_core import to_json, to_jsonable_python

from agentflow.events import StopEvent
from agentflow.extras import extra_needed
from agentflow.workflow import Workflow

with extra_needed("mcp", "agentflow.mcp"):
    from mcp_types import CallToolResult, TextContent, Tool

ReportProgress = Callable[[float, str], Awaitable[None]]
"""Sends one progress notification for the call under way: (progress, message)."""


class _ToolMetadata(Protocol):
    name: str
    description: str

    def get_parameters_dict(self) -> dict[str, Any]: ...


class _ToolOutput(Protocol):
    content: str
    is_error: bool
    raw_output: Any


@runtime_checkable
class CallableTool(Protocol):
    """A tool as the `tools` package makes one: `metadata` and `acall(**arguments)`."""

    metadata: Any

    async def acall(self, /, *args: Any, **kwargs: Any) -> Any: ...


class ServedTool:
    """A `CallableTool` served over MCP under its own name and schema."""

    def __init__(self, tool: CallableTool) -> None:
        self.tool = tool
        metadata: _ToolMetadata = tool.metadata
        self.name = metadata.name
        self.description = metadata.description

    def listing(self) -> Tool:
        """The tool as `tools/list` shows it."""
        schema = self.tool.metadata.get_parameters_dict()
        return Tool(name=self.name, description=self.description, input_schema=schema)

    async def call(self, arguments: dict[str, Any], report: ReportProgress) -> CallToolResult:
        """Call the tool; its error outputs are error results."""
        output: _ToolOutput = await self.tool.acall(**arguments)
        if output.is_error:
            return _error_result(output.content)
        structured = output.raw_output
        return _result(output.content, structured if _is_structured(structured) else None)


class WorkflowTool:
    """A workflow served over MCP: each call is one run."""

    def __init__(
        self, workflow: Workflow, name: str | None = None, description: str | None = None
    ) -> None:
        self.workflow = workflow
        self.name = name or _snake_case(type(workflow).__name__)
        """The tool's name (the workflow's class name in snake_case by default)."""
        self.description = description or _summary(type(workflow)) or f"Run {self.name}."
        """What the tool does (the workflow's docstring's first line by default)."""

    def listing(self) -> Tool:
        """The tool as `tools/list` shows it: the start event's fields are its arguments."""
        schema = self.workflow.start_event_class.model_json_schema()
        schema.pop("title", None)
        schema.pop("description", None)
        return Tool(name=self.name, description=self.description, input_schema=schema)

    async def call(self, arguments: dict[str, Any], report: ReportProgress) -> CallToolResult:
        """Run the workflow on `arguments`; each streamed event is a progress notification;
        the result is the tool result. A cancelled call cancels the run and waits for it."""
        try:
            # Built here, not by run(**arguments): an argument named `ctx` or `run_id` is
            # the client's field, never one of run()'s own options.
            start_event = self.workflow.start_event_class(**arguments)
        except ValidationError as error:
            return _error_result(f"workflow '{self.name}' cannot start: {error}")
        handler = self.workflow.run(start_event=start_event)
        try:
            count = 0
            async for event in handler.stream_events():
                if isinstance(event, StopEvent):
                    continue
                count += 1
                data = to_json(event, fallback=str).decode()
                await report(count, f"{type(event).__name__} {data}")
            result = await handler
        except Exception as error:
            return _error_result(
                f"workflow '{self.name}' failed: {type(error).__name__}: {error or '(no message)'}"
            )
        finally:
            if not handler.done():
                handler.cancel()
                await asyncio.wait([handler])
        if isinstance(result, StopEvent):  # a StopEvent subclass with fields of its own
            result = result.model_dump()
        text = result if isinstance(result, str) else to_json(result, fallback=str).decode()
        return _result(text, result if _is_structured(result) else None)


def _is_structured(value: Any) -> bool:
    # A CallToolResult is what an MCPTool keeps when its server sent no structured content.
    return isinstance(value, dict | BaseModel) and not isinstance(value, CallToolResult)


def _result(text: str, structured: Any) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=None
        if structured is None
        else to_jsonable_python(structured, fallback=str),
    )


def _error_result(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _summary(cls: type) -> str:
    doc = cls.__doc__ or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ").strip()
