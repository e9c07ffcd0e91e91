"""Turn the tools a caller passes into OpenAI tool dicts.

A tool is either a plain OpenAI tool dict (`{"type": "function", "function": {...}}`) or any
object with `.metadata.to_openai_tool()`, such as a `tools.FunctionTool`; the check is by
shape, so this layer does not import `tools`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agents.llm.errors import ToolSchemaError


def to_openai_tool(tool: Any) -> dict[str, Any]:
    """`tool` as an OpenAI tool dict; raises ToolSchemaError naming its type otherwise."""
    if isinstance(tool, Mapping):
        return dict(tool)
    metadata = getattr(tool, "metadata", None)
    convert = getattr(metadata, "to_openai_tool", None)
    if callable(convert):
        spec = convert()
        if isinstance(spec, Mapping):
            return dict(spec)
        raise ToolSchemaError(
            f"{type(tool).__name__}.metadata.to_openai_tool() returned a "
            f"{type(spec).__name__}, expected a dict"
        )
    raise ToolSchemaError(
        f"cannot pass a {type(tool).__name__} as a tool: expected an OpenAI tool dict or an "
        "object with .metadata.to_openai_tool()"
    )


def to_openai_tools(tools: Sequence[Any]) -> list[dict[str, Any]]:
    """Each of `tools` as an OpenAI tool dict."""
    return [to_openai_tool(tool) for tool in tools]
