"""What a tool passed to an LLM is, whatever the provider: a name, a description and a JSON
schema of its arguments (`ToolSchema`). Each provider's folder turns that into its own tool
format (`openai.tool_specs`, `anthropic.tool_specs`).

A tool is accepted as:
- an object with `.metadata` holding `name`, `description` and `get_parameters_dict()`: our
  `tools.FunctionTool`, and LlamaIndex's tools too (`DescribedTool`);
- a dict naming the same three, `{"name", "description", "parameters"}`, or in the OpenAI
  tool shape `{"type": "function", "function": {...}}` that many programs already build;
- a `ToolSchema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from agents.llm.errors import ToolSchemaError


@dataclass(frozen=True, slots=True)
class ToolSchema:
    """A tool as an LLM is told of it."""

    name: str
    """The name the model calls the tool by."""
    description: str = ""
    """What the tool does, for the model."""
    parameters: dict[str, Any] = field(default_factory=dict)
    """The JSON schema of the arguments (an object schema)."""


@runtime_checkable
class ToolDescription(Protocol):
    """The `metadata` of a described tool."""

    name: str
    description: str

    def get_parameters_dict(self) -> dict[str, Any]:
        """The JSON schema of the arguments."""
        ...


@runtime_checkable
class DescribedTool(Protocol):
    """A tool object: its `metadata` says what it is."""

    @property
    def metadata(self) -> Any:
        """A `ToolDescription`."""
        ...


def tool_schema(tool: Any) -> ToolSchema:
    """`tool` (see the module) as a `ToolSchema`; raises `ToolSchemaError` naming its type."""
    if isinstance(tool, ToolSchema):
        return tool
    if isinstance(tool, Mapping):
        return _from_mapping(tool)
    if isinstance(tool, DescribedTool) and isinstance(tool.metadata, ToolDescription):
        metadata = tool.metadata
        return ToolSchema(metadata.name, metadata.description or "", metadata.get_parameters_dict())
    raise ToolSchemaError(
        f"cannot pass a {type(tool).__name__} as a tool: expected a tool dict or an object "
        "with .metadata (name, description, get_parameters_dict())"
    )


def _from_mapping(tool: Mapping[str, Any]) -> ToolSchema:
    spec = tool.get("function", tool) if tool.get("type") == "function" else tool
    name = spec.get("name") if isinstance(spec, Mapping) else None
    if not isinstance(name, str) or not name:
        raise ToolSchemaError(f"a tool dict needs a 'name', got the keys {sorted(tool)}")
    parameters = spec.get("parameters", spec.get("input_schema", {}))
    return ToolSchema(name, str(spec.get("description", "")), dict(parameters or {}))
