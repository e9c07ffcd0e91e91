"""`ToolOutput`: what calling a tool returns, success or error, and how results become text.

The names follow LlamaIndex's `ToolOutput` (`content`, `tool_name`, `raw_input`,
`raw_output`, `is_error`), so code reading outputs ports unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json


@dataclass(slots=True)
class ToolOutput:
    """The result of one tool call, as the LLM will read it and as the program can use it."""

    tool_name: str
    """Name of the tool that was called (or asked for, when no such tool exists)."""
    content: str
    """The text for the LLM: the result, or for an error, what went wrong."""
    raw_input: dict[str, Any] = field(default_factory=dict)
    """The arguments as the caller gave them, before validation."""
    raw_output: Any = None
    """The function's return value; for an error, the exception (if there was one)."""
    is_error: bool = False
    """True when the call failed: bad arguments, an exception, a timeout, no such tool."""

    @property
    def exception(self) -> BaseException | None:
        """The exception behind an error output, if there was one (LlamaIndex's name)."""
        return self.raw_output if isinstance(self.raw_output, BaseException) else None

    def __str__(self) -> str:
        return self.content


def render_content(value: Any) -> str:
    """The text an LLM sees for a tool's return value.

    Strings pass through unchanged; pydantic models, dicts, lists and other data become
    JSON (objects JSON cannot hold are written with `str`).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return to_json(value, fallback=str).decode()
