"""Tools, tool choice and structured output in the Messages API's shapes.

A tool is `{"name", "description", "input_schema"}` from its provider-neutral schema
(`agents.llm.tool_schema`). Structured output is a tool too, the output tool: its input
schema is the class's JSON schema, and the request makes the model call it (`tool_choice`
`{"type": "tool"}`, or `{"type": "any"}` when other tools are offered, so that the model may
still call them first). The call's input is the answer; the client turns it into the reply's
text (`messages`), so that the workflows read it as they read OpenAI's JSON reply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from agents.llm.protocol import ToolChoice
from agents.llm.tool_schema import tool_schema

OUTPUT_CLS = "output_cls"
"""The request parameter `Anthropic.structured_kwargs` sets (the class asked for)."""


def to_anthropic_tool(tool: Any) -> dict[str, Any]:
    """`tool` as a Messages API tool; `ToolSchemaError` for what is not a tool."""
    schema = tool_schema(tool)
    spec: dict[str, Any] = {"name": schema.name}
    if schema.description:
        spec["description"] = schema.description
    spec["input_schema"] = schema.parameters or {"type": "object", "properties": {}}
    return spec


def output_tool_name(output_cls: type[BaseModel]) -> str:
    """The output tool's name: the class's, as tool names must be (^[a-zA-Z0-9_-]{1,64}$)."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", output_cls.__name__)[:64] or "output"


def output_tool(output_cls: type[BaseModel]) -> dict[str, Any]:
    """The tool whose input is an `output_cls`."""
    summary = (output_cls.__doc__ or "").strip()
    description = f"Give your answer: the input is the answer, a {output_cls.__name__}."
    return {
        "name": output_tool_name(output_cls),
        "description": f"{description} {summary}".strip(),
        "input_schema": output_cls.model_json_schema(),
    }


def to_anthropic_tool_choice(
    choice: ToolChoice | None, output: str | None, other_tools: bool
) -> dict[str, Any] | None:
    """`choice` in the API's words ("required" is "any", a named function a named tool);
    with an output tool the model must answer through it: named when it may call nothing
    else, "any" when it may call other tools first."""
    if output is not None:
        if isinstance(choice, Mapping) or not other_tools or choice == "none":
            return {"type": "tool", "name": output}
        return {"type": "any"}
    if choice is None:
        return None
    if isinstance(choice, Mapping):
        name = choice.get("name") or (choice.get("function") or {}).get("name")
        return {"type": "tool", "name": name}
    return {"type": {"required": "any"}.get(choice, choice)}


def to_anthropic_tools(tools: Sequence[Any]) -> list[dict[str, Any]]:
    """Each of `tools` as a Messages API tool."""
    return [to_anthropic_tool(tool) for tool in tools]
