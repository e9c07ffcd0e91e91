"""What a schema proposal asks the LLM, and the reply it must give.

The reply is structured output (`SchemaProposal`), but the schema in it is JSON text: a
JSON Schema is a free-form object, which strict mode cannot ask for as such. The text is
then parsed and checked as any schema given to `ExtractionWorkflow` is
(`check_json_schema`), plus a description on every field, and an unusable one goes back
with what was wrong (`unusable_reply_messages`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from agents.llm.types import ChatMessage

PROPOSAL_PROMPT = """You design the JSON Schema that data will be extracted from documents \
with. The user says in words what they want; you see the beginning of their documents.

Write a JSON Schema (draft 2020-12) for one record:
- {"title": ..., "type": "object", "properties": {...}, "required": [...]};
- one property per piece of data the user asks for, named in snake_case, each with a
  "type" and a "description" saying what to extract and in which form (dates as
  "YYYY-MM-DD" strings with "format": "date", amounts as numbers);
- a group of values as an object with its own "properties", a repeated item as an
  "array" whose "items" is an object;
- no "$ref", no "additionalProperties" schemas, no "prefixItems"; every object lists its
  properties.
Put the schema, as JSON text, in `json_schema`."""

_DOCUMENTS = """What to extract: {prompt}

The beginning of the documents:
{excerpt}"""

_FEEDBACK = """A reviewer read that schema and asks for changes: {feedback}
Propose the whole schema again, changed as they ask."""

_EARLIER_FEEDBACK = """
What they asked for before, which still holds: {earlier}"""

_UNUSABLE = """That schema cannot be used: {error}
Reply again with a corrected schema in `json_schema`."""


class SchemaProposal(BaseModel):
    """The reply a proposal asks for."""

    json_schema: str = Field(
        description="The JSON Schema of the data to extract, as JSON text: an object whose "
        "properties are the fields, each with a type and a description."
    )


def document_excerpt(name: str, text: str) -> str:
    """One document's opening, as the proposal shows it."""
    return f'<document name="{name}">\n{text}\n</document>'


def proposal_messages(
    prompt: str,
    excerpt: str,
    system_prompt: str = PROPOSAL_PROMPT,
    feedback: Sequence[str] = (),
    previous: dict[str, Any] | None = None,
) -> list[ChatMessage]:
    """The request for a schema: the instructions, the user's prompt and the documents'
    opening; after feedback, the latest proposal (as the model's answer) and the feedback,
    the last item first and the earlier ones after it, so no change asked for is lost."""
    messages = [
        ChatMessage.system(system_prompt),
        ChatMessage.user(_DOCUMENTS.format(prompt=prompt, excerpt=excerpt)),
    ]
    if previous is not None and feedback:
        earlier = SchemaProposal(json_schema=json.dumps(previous, ensure_ascii=False))
        messages.append(ChatMessage.assistant(earlier.model_dump_json()))
        asked = _FEEDBACK.format(feedback=feedback[-1])
        if len(feedback) > 1:
            asked += _EARLIER_FEEDBACK.format(earlier="; ".join(feedback[:-1]))
        messages.append(ChatMessage.user(asked))
    return messages


def unusable_reply_messages(reply: str, error: str) -> list[ChatMessage]:
    """What goes back after a reply whose schema could not be used: the reply, then why."""
    return [ChatMessage.assistant(reply), ChatMessage.user(_UNUSABLE.format(error=error))]


def undescribed_fields(schema: dict[str, Any]) -> list[str]:
    """The fields (top-level properties) a proposal gives no description."""
    return [
        name
        for name, sub in schema.get("properties", {}).items()
        if not (isinstance(sub, dict) and str(sub.get("description") or "").strip())
    ]
