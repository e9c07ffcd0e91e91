"""Tools as OpenAI tool dicts (`{"type": "function", "function": {...}}`), from their
provider-neutral schema (`agents.llm.tool_schema`); with `strict`, in strict mode."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agents.llm.openai.strict_schema import strict_parameters
from agents.llm.tool_schema import tool_schema


def to_openai_tool(tool: Any, strict: bool = False) -> dict[str, Any]:
    """`tool` as an OpenAI tool dict; one given in that shape already is sent as it is.
    Raises `ToolSchemaError` for what is not a tool, and with `strict` `StrictSchemaError`
    for arguments strict mode cannot express."""
    if isinstance(tool, Mapping) and tool.get("type") == "function" and not strict:
        return dict(tool)
    schema = tool_schema(tool)
    function: dict[str, Any] = {"name": schema.name, "description": schema.description}
    if strict:
        function["parameters"] = strict_parameters(schema.parameters, schema.name)
        function["strict"] = True
    else:
        function["parameters"] = schema.parameters
    return {"type": "function", "function": function}


def to_openai_tools(tools: Sequence[Any], strict: bool = False) -> list[dict[str, Any]]:
    """Each of `tools` as an OpenAI tool dict."""
    return [to_openai_tool(tool, strict) for tool in tools]
