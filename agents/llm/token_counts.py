"""Token counts through any `LLM`, and the estimate used when no client is at hand.

Each client counts its own tokens (`LLM.count_prompt_tokens`, `count_reply_tokens`: tiktoken
for OpenAI, an estimate for Anthropic), so the workflows count through the client they run
with and never through one provider's tokenizer. What they need is phrased on those two
calls: what messages and tools add to a prompt (a memory's window, a system prompt's room),
what a prompt of nothing costs (a provider's reply priming), and the tokens of a text (a
document chunk's size).

Without a client (a `ChatMemory` made without an llm), tokens are estimated as one per
`BYTES_PER_TOKEN` bytes of UTF-8 text, rounded up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from agents.llm.protocol import LLM
from agents.llm.types import ChatMessage

BYTES_PER_TOKEN = 4
"""About four characters of English per token, taken over UTF-8 bytes so that other
scripts (two to four bytes a character, often a token or more each) are not counted far too
low."""


def estimate_text(text: str) -> int:
    """Estimated tokens in `text`: one per `BYTES_PER_TOKEN` bytes of UTF-8, rounded up."""
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def estimate_reply(message: ChatMessage) -> int:
    """Estimated tokens of `message`'s text and tool calls (name and arguments as written)."""
    written = [message.text, *(call.name + call.raw_arguments for call in message.tool_calls)]
    return sum(estimate_text(text) for text in written)


def prompt_overhead(llm: LLM) -> int:
    """The tokens `llm` counts for a prompt of no messages and no tools (OpenAI's reply
    priming; nothing for a client that counts only what is sent)."""
    return llm.count_prompt_tokens([])


def added_prompt_tokens(
    llm: LLM, messages: Sequence[ChatMessage], tools: Sequence[Any] | None = None
) -> int:
    """The tokens `messages` and `tools` add to a prompt, as `llm` counts them."""
    return llm.count_prompt_tokens(messages, tools) - prompt_overhead(llm)


def text_counter(llm: LLM) -> Callable[[str], int]:
    """A function giving the tokens of a text as `llm` counts them (those of a reply of
    that text: no message framing)."""

    def count(text: str) -> int:
        return llm.count_reply_tokens(ChatMessage.assistant(text))

    return count
