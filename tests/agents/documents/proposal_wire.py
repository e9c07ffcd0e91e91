"""A stand-in model for schema proposal runs, at the OpenAI wire: a proposal request
(`response_format` named "SchemaProposal") gets the next of `proposals` (each a schema
dict, or raw text for `json_schema`), any other request goes to the extraction model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from documents_wire import ExtractionModel
from llm_wire import completion


@dataclass
class ProposingModel:
    proposals: list[dict[str, Any] | str]
    extraction: ExtractionModel
    asked: list[dict[str, Any]] = field(default_factory=list)
    """The proposal requests' bodies, in order."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["response_format"]["json_schema"]["name"] != "SchemaProposal":
            return self.extraction(request)
        self.asked.append(body)
        proposal = self.proposals[len(self.asked) - 1]
        text = proposal if isinstance(proposal, str) else json.dumps(proposal)
        return httpx.Response(200, json=completion(json.dumps({"json_schema": text})))


def message_texts(body: dict[str, Any]) -> list[str]:
    """Each message's content, in order."""
    return [str(message["content"]) for message in body["messages"]]
