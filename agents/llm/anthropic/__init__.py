"""Everything Anthropic-specific: the `Anthropic` client on the official `anthropic` SDK.

| module | holds |
|---|---|
| `client` | `Anthropic`: the `LLM` protocol over the SDK's `AsyncAnthropic` |
| `messages` | our message types to and from the Messages API; stop reasons, usage |
| `stream_accumulator` | streamed events -> the assistant's message |
| `tool_specs` | tools, tool choice and the structured-output tool in the API's shapes |
| `tokens` | token estimates (the API's counter is a call of its own) |
| `errors` | `AnthropicTimeoutError` |

`from agents.llm.anthropic import Anthropic` loads the anthropic SDK (extra `[anthropic]`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.llm.anthropic.client import Anthropic

__all__ = ["Anthropic"]


def __getattr__(name: str) -> Any:
    if name == "Anthropic":
        return importlib.import_module("agents.llm.anthropic.client").Anthropic
    raise AttributeError(f"module 'agents.llm.anthropic' has no attribute {name!r}")
