"""The messages one extraction call sends: instructions, the fields, the chunk.

The instructions insist on verbatim quotes and on a null value for what a chunk does not
state (inside the field's object, which is always given: see `fields.py`), because every
value is checked against its quote afterwards: a model that paraphrases gets its values
marked unverified, one that guesses gets them contradicted by the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agents.documents.chunking import Chunk
from agents.documents.fields import FieldSpec
from agents.llm.types import ChatMessage

SYSTEM_PROMPT = """You extract structured data from one part of a longer document.

For each field below, give an object with what THIS part of the document states, even when
it states nothing for the field:
- value: the value, in the field's type; null when this part does not state it. Never guess,
  infer or compute a value that is not written here.
- quote: the shortest passage that states the value, copied character for character from
  the text (no paraphrase, no ellipsis, no added punctuation); "" when the value is null.
- confidence: from 0 to 1, how sure you are the value is right for this field.
For a list field, give one entry per item stated in this part, each with its own quote.

Fields:
{fields}"""

_FEEDBACK = """A reviewer checked an earlier extraction and asks you to look again at: \
{fields}.
Their feedback: {feedback}
The earlier values were: {previous}"""


def describe_fields(specs: Mapping[str, FieldSpec], names: list[str]) -> str:
    """One line per field: its name, whether it is a list, and the schema's description."""
    lines = []
    for name in names:
        spec = specs[name]
        kind = " (list)" if spec.is_list else ""
        help_ = f": {spec.description}" if spec.description else ""
        lines.append(f"- {name}{kind}{help_}")
    return "\n".join(lines)


def chunk_location(chunk: Chunk) -> str:
    """Where the chunk is, in words: file, pages, part n of m."""
    pages = ""
    if chunk.page is not None:
        pages = (
            f", page {chunk.page}"
            if chunk.page == chunk.last_page
            else f", pages {chunk.page}-{chunk.last_page}"
        )
    return f"{chunk.file}{pages}, part {chunk.index + 1} of {chunk.count}"


def extraction_messages(
    chunk: Chunk,
    specs: Mapping[str, FieldSpec],
    names: list[str],
    system_prompt: str = SYSTEM_PROMPT,
    feedback: str | None = None,
    previous: Mapping[str, Any] | None = None,
) -> list[ChatMessage]:
    """The system message (instructions and fields) and the user message (the chunk, and a
    reviewer's feedback when re-extracting)."""
    user = f"Document: {chunk_location(chunk)}\n\n<document>\n{chunk.text}\n</document>"
    if feedback:
        user += "\n\n" + _FEEDBACK.format(
            fields=", ".join(names),
            feedback=feedback,
            previous=json.dumps(dict(previous or {}), ensure_ascii=False, default=str),
        )
    return [
        # replace(), not format(): a custom prompt may hold braces (a JSON example).
        ChatMessage.system(system_prompt.replace("{fields}", describe_fields(specs, names))),
        ChatMessage.user(user),
    ]
