"""Structured output, the same for every provider: the re-ask loop and reading a reply.

How a request asks for a class is the client's (`LLM.structured_kwargs`: OpenAI's strict
`response_format`, Anthropic's forced tool, a prompt for a LlamaIndex LLM). What follows is
shared: `predict_structured` asks, validates the reply, and on a validation error sends the
errors back and asks again, up to `max_attempts`; a refusal or a cut-off reply is raised as
such, not as a parse error; `predict_with` is a client's whole `astructured_predict` on it.
`json_text` is how every reader takes a reply's JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from agents.llm.errors import StructuredOutputError
from agents.llm.types import ChatMessage, ChatResponse

if TYPE_CHECKING:
    from agents.llm.protocol import LLM

OutputT = TypeVar("OutputT", bound=BaseModel)

ChatFunction = Callable[[list[ChatMessage]], Awaitable[ChatResponse]]
"""Sends messages, returns the reply (the schema is already bound in)."""

_RETRY_PROMPT = (
    "Your reply did not match the required JSON schema. Validation errors:\n{errors}\n"
    "Reply again with only a JSON object that matches the schema."
)


async def predict_structured(
    chat: ChatFunction,
    output_cls: type[OutputT],
    messages: Sequence[ChatMessage],
    max_attempts: int = 3,
) -> OutputT:
    """Ask through `chat` until a reply validates as `output_cls`, at most `max_attempts` times.

    Raises LLMRefusalError or LLMLengthError at once for a refusal or a cut-off reply, and
    StructuredOutputError with the last validation errors when no attempt validated.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    conversation = list(messages)
    errors = ""
    reply = ""
    for _ in range(max_attempts):
        response = await chat(conversation)
        response.raise_for_finish()
        reply = response.message.text
        try:
            return output_cls.model_validate_json(json_text(reply))
        except ValidationError as error:
            errors = str(error)
        conversation += reask_messages(reply, errors)
    raise StructuredOutputError(output_cls, max_attempts, errors, reply)


async def predict_with(
    llm: LLM,
    output_cls: type[OutputT],
    messages: Sequence[ChatMessage],
    kwargs: dict[str, Any],
) -> OutputT:
    """`predict_structured` through `llm.achat`, the request asking for `output_cls` the
    client's way (`structured_kwargs`, then the caller's `kwargs`), as many times as the
    client allows (`structured_max_attempts`)."""
    request = {**llm.structured_kwargs(output_cls), **kwargs}

    async def chat(conversation: list[ChatMessage]) -> ChatResponse:
        return await llm.achat(conversation, **request)

    return await predict_structured(
        chat, output_cls, messages, max_attempts=llm.structured_max_attempts
    )


def reask_messages(reply: str, errors: str) -> list[ChatMessage]:
    """What goes back to the model after `reply` failed validation with `errors`: the reply
    itself, then the request to answer again that quotes the errors."""
    return [ChatMessage.assistant(reply), ChatMessage.user(_RETRY_PROMPT.format(errors=errors))]


def json_text(reply: str) -> str:
    """The JSON in `reply`: without the Markdown code fence (```json ... ```) that models
    without a JSON mode, and some servers despite one, wrap an object in."""
    text = reply.strip()
    if text.startswith("```") and text.endswith("```") and "\n" in text:
        return text[text.index("\n") + 1 : -3].strip()
    return text
