"""Token estimates for Claude models, made without a call.

Anthropic publishes no tokenizer; its exact count is an API call of its own
(`messages.count_tokens`), too slow and too costly for what the workflows count before each
request (a budget check, the memory's window). So a token is estimated as
`BYTES_PER_TOKEN` bytes of UTF-8 text, rounded up, over what a request carries: each
message's text and tool calls, and each tool's schema as JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from agents.llm.anthropic.tool_specs import to_anthropic_tool
from agents.llm.types import ChatMessage

BYTES_PER_TOKEN = 4
"""About four characters of English per token, taken over UTF-8 bytes so that other
scripts are not counted far too low."""


def estimate_text(text: str) -> int:
    """Estimated tokens in `text`."""
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def estimate_reply(message: ChatMessage) -> int:
    """Estimated tokens of `message`'s text and tool calls."""
    written = [message.text, *(call.name + call.raw_arguments for call in message.tool_calls)]
    return sum(estimate_text(text) for text in written)


def estimate_prompt(messages: Sequence[ChatMessage], tools: Sequence[Any] | None) -> int:
    """Estimated tokens of a request's messages and tool schemas."""
    schemas = [json.dumps(to_anthropic_tool(tool)) for tool in tools or ()]
    return sum(map(estimate_reply, messages)) + sum(map(estimate_text, schemas))
