"""LLM clients: message types, the `LLM` protocol, `OpenAI`, token counting.

`from agents.llm import OpenAI` loads the openai SDK only then; the types and the protocol
load without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.llm.errors import (
    LLMError,
    LLMLengthError,
    LLMRefusalError,
    StructuredOutputError,
    ToolSchemaError,
)
from agents.llm.protocol import LLM, LLMMetadata
from agents.llm.types import (
    ChatMessage,
    ChatResponse,
    ContentPart,
    ImagePart,
    TextPart,
    ToolCall,
    Usage,
)

if TYPE_CHECKING:
    from agents.llm.openai_llm import OpenAI

__all__ = [
    "LLM",
    "ChatMessage",
    "ChatResponse",
    "ContentPart",
    "ImagePart",
    "LLMError",
    "LLMLengthError",
    "LLMMetadata",
    "LLMRefusalError",
    "OpenAI",
    "StructuredOutputError",
    "TextPart",
    "ToolCall",
    "ToolSchemaError",
    "Usage",
]


def __getattr__(name: str) -> Any:
    if name == "OpenAI":
        from agents.llm.openai_llm import OpenAI

        return OpenAI
    raise AttributeError(f"module 'agents.llm' has no attribute {name!r}")
