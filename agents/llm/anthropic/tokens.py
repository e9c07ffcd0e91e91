"""Token estimates for Claude models, made without a call.

Anthropic publishes no tokenizer; its exact count is an API call of its own
(`messages.count_tokens`), too slow and too costly for what the workflows count before each
request (a budget check, the memory's window). So tokens are estimated with the
provider-neutral estimate (`agents.llm.token_counts`: one per 4 bytes of UTF-8 text, rounded
up) over what a request carries: each message's text and tool calls, and each tool's schema
as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agents.llm.anthropic.tool_specs import to_anthropic_tool
from agents.llm.token_counts import estimate_reply, estimate_text
from agents.llm.types import ChatMessage


def estimate_prompt(messages: Sequence[ChatMessage], tools: Sequence[Any] | None) -> int:
    """Estimated tokens of a request's messages and tool schemas."""
    schemas = [json.dumps(to_anthropic_tool(tool)) for tool in tools or ()]
    return sum(map(estimate_reply, messages)) + sum(map(estimate_text, schemas))
