"""Everything OpenAI-specific: the `OpenAI` client and what it speaks.

| module | holds |
|---|---|
| `client` | `OpenAI`: the `LLM` protocol over the SDK's `AsyncOpenAI` |
| `models` | context windows and reasoning models, by name |
| `messages` | our message types to and from the chat completions wire format |
| `stream_accumulator` | streamed chunks -> the assistant's message |
| `replies` | checks that a 200 reply is a chat completion |
| `retries`, `transport`, `settings` | which failed requests go again; timeouts; env settings |
| `strict_schema` | strict-mode JSON schemas, for tools and for `response_format` |
| `tool_specs` | tools -> OpenAI tool dicts |
| `tokens` | token counts with tiktoken, by OpenAI's counting rules |

`from agents.llm.openai import OpenAI` loads the openai SDK then; the other modules (token
counting, schemas) load without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.llm.openai.client import OpenAI

__all__ = ["OpenAI"]


def __getattr__(name: str) -> Any:
    if name == "OpenAI":
        return importlib.import_module("agents.llm.openai.client").OpenAI
    raise AttributeError(f"module 'agents.llm.openai' has no attribute {name!r}")
