"""A stand-in extraction model for respx-mocked tests, answering at the OpenAI wire.

`ExtractionModel` is a respx side effect that reads each chat completions request as a
server would: the fields it must answer are the `response_format` schema's properties, the
text is what the user message holds between <document> tags. Chunks are extracted
concurrently, so answers are chosen by what the chunk says, never by call order: each
`Fact` is given when its `anchor` (by default its quote) is in the chunk, and a list item
once per time its anchor is there. A field the chunk does not state is answered as the
schema asks: an entry whose value is null.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from llm_wire import completion

NOT_STATED = {"value": None, "quote": "", "confidence": 0.0}
"""The entry for a field the chunk does not state."""


@dataclass(frozen=True)
class Fact:
    """A value the model reports for `field` when `anchor` is in the chunk it reads."""

    field: str
    value: Any
    quote: str
    confidence: float = 0.9
    anchor: str | None = None

    def entry(self) -> dict[str, Any]:
        return {"value": self.value, "quote": self.quote, "confidence": self.confidence}


@dataclass
class ExtractionModel:
    """Answers extraction requests from `facts`; `override` may replace a reply (by
    returning the raw content) to send something invalid."""

    facts: list[Fact]
    override: Callable[[str, dict[str, Any]], str | None] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        text = document_text(body)
        if self.override is not None:
            content = self.override(text, body)
            if content is not None:
                return httpx.Response(200, json=completion(content))
        return httpx.Response(200, json=completion(json.dumps(self.answer(body, text))))

    def answer(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        schema = body["response_format"]["json_schema"]["schema"]
        reply: dict[str, Any] = {}
        for name, prop in schema["properties"].items():
            is_list = prop.get("type") == "array"
            found = [f for f in self.facts if f.field == name and (f.anchor or f.quote) in text]
            if is_list:
                # An item is listed once for each place the chunk states it.
                reply[name] = [
                    f.entry() for f in found for _ in range(text.count(f.anchor or f.quote))
                ]
            else:
                reply[name] = found[0].entry() if found else NOT_STATED
        return reply

    def asked_fields(self) -> list[list[str]]:
        """The fields each request asked for, in request order."""
        return [
            list(body["response_format"]["json_schema"]["schema"]["properties"])
            for body in self.requests
        ]


def document_text(body: dict[str, Any]) -> str:
    """The chunk text in a request's user message."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    match = re.search(r"<document>\n(.*)\n</document>", user, re.S)
    assert match is not None, user
    return match.group(1)


def user_message(body: dict[str, Any]) -> str:
    return str(next(m["content"] for m in body["messages"] if m["role"] == "user"))
