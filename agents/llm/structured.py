"""Structured output: a pydantic model as a strict JSON schema, and the re-ask loop.

`strict_json_schema` makes the schema OpenAI's strict mode accepts (every object closed with
`additionalProperties: false`, every property required, no defaults). It allows `null` only
where the model itself takes `None`: a field with another default becomes required, never
nullable, because a server that turns the schema into a grammar lets a model write `null`
wherever it is allowed, and small models take that way out (a `null` in place of a whole
object costs them one token). An `Optional` field the user declared stays nullable.

`predict_structured` asks, validates the reply, and on a validation error sends the errors
back and asks again, up to `max_attempts`; a refusal or a cut-off reply is raised as such,
not as a parse error.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from agents.llm.errors import StructuredOutputError
from agents.llm.protocol import StructuredRequests
from agents.llm.types import ChatMessage, ChatResponse
from tools.strict_schema import SUPPORTED_FORMATS, UNSUPPORTED_KEYWORDS

OutputT = TypeVar("OutputT", bound=BaseModel)

ChatFunction = Callable[[list[ChatMessage]], Awaitable[ChatResponse]]
"""Sends messages, returns the reply (the schema is already bound in)."""

_RETRY_PROMPT = (
    "Your reply did not match the required JSON schema. Validation errors:\n{errors}\n"
    "Reply again with only a JSON object that matches the schema."
)


def strict_json_schema(output_cls: type[BaseModel]) -> dict[str, Any]:
    """`output_cls`'s JSON schema, made strict for OpenAI structured outputs."""
    schema = output_cls.model_json_schema()
    _make_strict(schema, schema.get("$defs", {}))
    return schema


def _make_strict(node: Any, definitions: dict[str, Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _make_strict(item, definitions)
        return
    if not isinstance(node, dict):
        return
    node.pop("default", None)  # strict mode refuses defaults; every field is sent
    # Keywords strict mode refuses: the reply is still validated against them by pydantic
    # (and re-asked for when it fails).
    for keyword in UNSUPPORTED_KEYWORDS:
        node.pop(keyword, None)
    if isinstance(node.get("format"), str) and node["format"] not in SUPPORTED_FORMATS:
        del node["format"]
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        # Strict mode refuses a $ref with siblings (pydantic puts a field's `description`
        # next to it): inline the definition under them.
        target = definitions.get(ref.rsplit("/", 1)[-1])
        if target is not None:
            del node["$ref"]
            for key, value in copy.deepcopy(target).items():
                node.setdefault(key, value)
    extra = node.get("additionalProperties")
    # A dict[str, X] (open, no properties) is left open: closed, the model could only
    # send {}; strict mode refuses it with a message naming it.
    is_object = node.get("type") == "object" or "properties" in node
    if is_object and (extra is None or extra is False or "properties" in node):
        node["additionalProperties"] = False
        node["required"] = list(node.get("properties", {}))
    if isinstance(extra, dict):
        _make_strict(extra, definitions)
    for key in ("properties", "$defs", "definitions"):
        for child in node.get(key, {}).values():
            _make_strict(child, definitions)
    for key in ("items", "anyOf", "allOf", "oneOf", "prefixItems"):
        if key in node:
            _make_strict(node[key], definitions)


def response_format_for(output_cls: type[BaseModel]) -> dict[str, Any]:
    """The `response_format` parameter asking for `output_cls` as strict JSON."""
    return {
        "type": "json_schema",
        "json_schema": {
            # The name must match ^[a-zA-Z0-9_-]{1,64}$: a generic model is "Page[Item]".
            "name": re.sub(r"[^a-zA-Z0-9_-]", "_", output_cls.__name__)[:64] or "output",
            "schema": strict_json_schema(output_cls),
            "strict": True,
        },
    }


def structured_request(llm: object, output_cls: type[BaseModel]) -> dict[str, Any]:
    """The request parameters asking `llm` for `output_cls`: its own `structured_kwargs`
    (`StructuredRequests`), else OpenAI's strict `response_format`."""
    if isinstance(llm, StructuredRequests):
        return llm.structured_kwargs(output_cls)
    return {"response_format": response_format_for(output_cls)}


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
            return output_cls.model_validate_json(_without_code_fence(reply))
        except ValidationError as error:
            errors = str(error)
        conversation += reask_messages(reply, errors)
    raise StructuredOutputError(output_cls, max_attempts, errors, reply)


def reask_messages(reply: str, errors: str) -> list[ChatMessage]:
    """What goes back to the model after `reply` failed validation with `errors`: the reply
    itself, then the request to answer again that quotes the errors."""
    return [ChatMessage.assistant(reply), ChatMessage.user(_RETRY_PROMPT.format(errors=errors))]


def _without_code_fence(reply: str) -> str:
    # Models without a JSON mode often wrap the object in ```json ... ``` whatever they
    # were told; the object inside is the answer.
    text = reply.strip()
    if text.startswith("```") and text.endswith("```") and "\n" in text:
        return text[text.index("\n") + 1 : -3]
    return reply
