"""LLM clients: message types, the `LLM` protocol, and one folder per provider.

Each provider's client lives in a folder of its own, with everything its wire format needs:
`OpenAI` in `agents.llm.openai`, `Anthropic` in `agents.llm.anthropic`. `agents.llm.<Client>`
is found in whichever provider folder exports it (its `__all__`), so a new provider is one
new folder. `from agents.llm import OpenAI` loads the openai SDK only then, `Anthropic` the
anthropic SDK, `LlamaIndexLLM` llama_index and `MeteredLLM` the workflow engine; the types,
the protocol and the ledger load without them.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from agents.llm.errors import (
    BudgetExceededError,
    EmptyResponseError,
    LLMConfigurationError,
    LLMError,
    LLMLengthError,
    LLMRefusalError,
    LLMTimeoutError,
    StrictSchemaError,
    StrictSchemaProblem,
    StructuredOutputError,
    TokenEstimateWarning,
    ToolSchemaError,
    UnexpectedResponseError,
    one_line_with_notes,
)
from agents.llm.ledger import LedgerEntry, Price, UsageLedger
from agents.llm.openai.settings import add_llm_timeout_option
from agents.llm.protocol import LLM, LLMMetadata
from agents.llm.scripted_llm import ScriptedLLM, ScriptedRequest
from agents.llm.scripted_replies import tool_call
from agents.llm.tool_schema import ToolSchema
from agents.llm.types import (
    ChatMessage,
    ChatResponse,
    ContentPart,
    ImagePart,
    TextPart,
    ToolCallPart,
    Usage,
)

if TYPE_CHECKING:  # for type checkers only: at run time, found in their folders
    from agents.llm.anthropic.client import Anthropic
    from agents.llm.llama_index_llm import LlamaIndexLLM
    from agents.llm.metered import MeteredLLM
    from agents.llm.openai.client import OpenAI

__all__ = [
    "LLM",
    "Anthropic",
    "BudgetExceededError",
    "ChatMessage",
    "ChatResponse",
    "ContentPart",
    "EmptyResponseError",
    "ImagePart",
    "LLMConfigurationError",
    "LLMError",
    "LLMLengthError",
    "LLMMetadata",
    "LLMRefusalError",
    "LLMTimeoutError",
    "LedgerEntry",
    "LlamaIndexLLM",
    "MeteredLLM",
    "OpenAI",
    "Price",
    "ScriptedLLM",
    "ScriptedRequest",
    "StrictSchemaError",
    "StrictSchemaProblem",
    "StructuredOutputError",
    "TextPart",
    "TokenEstimateWarning",
    "ToolCallPart",
    "ToolSchema",
    "ToolSchemaError",
    "UnexpectedResponseError",
    "Usage",
    "UsageLedger",
    "add_llm_timeout_option",
    "one_line_with_notes",
    "tool_call",
]


# Loaded on first use: each pulls in a heavy dependency (llama_index, the engine).
_LAZY = {
    "LlamaIndexLLM": "agents.llm.llama_index_llm",
    "MeteredLLM": "agents.llm.metered",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    for provider in pkgutil.iter_modules(__path__):
        if not provider.ispkg:
            continue
        # A provider folder's __init__ exports its client lazily: no SDK loads here.
        module = importlib.import_module(f"{__name__}.{provider.name}")
        if name in vars(module).get("__all__", ()):
            return getattr(module, name)
    raise AttributeError(f"module 'agents.llm' has no attribute {name!r}")
