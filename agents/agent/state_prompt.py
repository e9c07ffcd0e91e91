"""The shared state in the user's message, and the prompt templates an agent takes as text.

LlamaIndex's agents put a non-empty shared state (`initial_state`, edited by tools through
`ctx.store`) into the user message of each run, through a `state_prompt` with `{state}`
and `{msg}`. Ours do so only when given a `state_prompt`: the conversation then keeps the
message as the model read it, state included. Without one, the memory holds what the user
wrote, and tools read the state from the context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agents.agent.errors import AgentOptionError
from agents.llm.types import ChatMessage, TextPart


def checked_template(owner: str, option: str, template: Any, placeholders: Sequence[str]) -> str:
    """`template` as text (a string, or a LlamaIndex `PromptTemplate`, read through its
    `get_template()`), after checking that it holds each of `placeholders`. Raises
    `AgentOptionError` naming `owner` and `option` otherwise."""
    text = template.get_template() if hasattr(template, "get_template") else template
    if not isinstance(text, str):
        raise AgentOptionError(
            f"{owner}: {option} must be a string or a PromptTemplate, got {type(template).__name__}"
        )
    missing = [name for name in placeholders if "{" + name + "}" not in text]
    if missing:
        raise AgentOptionError(
            f"{owner}: {option} must contain {' and '.join('{' + n + '}' for n in placeholders)}; "
            f"{', '.join('{' + n + '}' for n in missing)} is missing from {text!r}"
        )
    return text


def with_state(message: ChatMessage, state: Mapping[str, Any], state_prompt: str) -> ChatMessage:
    """`message` with its text put in `state_prompt` beside `state` (the last text part of a
    message made of parts, as LlamaIndex does)."""

    def fill(text: str) -> str:
        # str.replace rather than str.format: the state's repr holds braces of its own.
        return state_prompt.replace("{state}", str(dict(state))).replace("{msg}", text)

    if isinstance(message.content, str) or message.content is None:
        return message.model_copy(update={"content": fill(message.text)})
    parts = list(message.content)
    for index in range(len(parts) - 1, -1, -1):
        part = parts[index]
        if isinstance(part, TextPart):
            parts[index] = TextPart(text=fill(part.text))
            break
    return message.model_copy(update={"content": parts})
