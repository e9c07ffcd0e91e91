"""LLM clients: message types, the `LLM` protocol, `OpenAI`, token counting.

`from agents.llm import OpenAI` loads the openai SDK only then, and `MeteredLLM` the workflow
engine; the types, the protocol and the ledger load without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.llm.errors import (
    BudgetExceededError,
    LLMError,
    LLMLengthError,
    LLMRefusalError,
    StructuredOutputError,
    ToolSchemaError,
)
from agents.llm.ledger import LedgerEntry, Price, UsageLedger
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
    from agents.llm.metered import MeteredLLM
    from agents.llm.openai_llm import OpenAI

__all__ = [
    "LLM",
    "BudgetExceededError",
    "ChatMessage",
    "ChatResponse",
    "ContentPart",
    "ImagePart",
    "LLMError",
    "LLMLengthError",
    "LLMMetadata",
    "LLMRefusalError",
    "LedgerEntry",
    "MeteredLLM",
    "OpenAI",
    "Price",
    "StructuredOutputError",
    "TextPart",
    "ToolCall",
    "ToolSchemaError",
    "Usage",
    "UsageLedger",
]


def __getattr__(name: str) -> Any:
    if name == "OpenAI":
        from agents.llm.openai_llm import OpenAI

        return OpenAI
    if name == "MeteredLLM":
        from agents.llm.metered import MeteredLLM

        return MeteredLLM
    raise AttributeError(f"module 'agents.llm' has no attribute {name!r}")
