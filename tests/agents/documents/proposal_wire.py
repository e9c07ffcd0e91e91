"""A stand-in model for schema proposal runs, at the OpenAI wire: a proposal request
(`response_format` named "SchemaProposal") gets the next of `proposals` (each a schema
dict, or raw text for `json_schema`), any other request goes to the extraction model; and
`answered`, a proposal run on the lease with its questions answered in order."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import httpx
from documents_wire import ExtractionModel
from lease_fixtures import LEASE_TEXT
from llm_wire import completion

from agentflow.events import HumanResponseEvent
from agents.documents import (
    ExtractionResult,
    ReviewRequired,
    SchemaProposalWorkflow,
    SchemaProposed,
)

PROMPT = "the landlord, the rent, when the lease starts and who signed it"
LEASE = {"text": LEASE_TEXT, "name": "lease.txt"}


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


def without(schema: dict[str, Any], name: str) -> dict[str, Any]:
    """`schema` without its field `name`."""
    changed = copy.deepcopy(schema)
    del changed["properties"][name]
    changed["required"] = [field for field in changed["required"] if field != name]
    return changed


class Answered(NamedTuple):
    result: ExtractionResult[dict[str, Any]]
    shown: list[SchemaProposed]
    drafts: list[ReviewRequired]
    events: list[Any]
    """Every event streamed."""


async def answered(
    workflow: SchemaProposalWorkflow,
    answers: list[HumanResponseEvent],
    reviews: list[HumanResponseEvent] | None = None,
    documents: list[dict[str, str]] | None = None,
) -> Answered:
    """Run on `documents` (the lease), answering each `SchemaProposed` with the next of
    `answers` and each `ReviewRequired` with the next of `reviews`."""
    handler = workflow.run(PROMPT, documents=documents or [LEASE])
    shown: list[SchemaProposed] = []
    drafts: list[ReviewRequired] = []
    events: list[Any] = []
    async for ev in handler.stream_events():
        events.append(ev)
        if isinstance(ev, SchemaProposed):
            shown.append(ev)
            handler.ctx.send_event(answers[len(shown) - 1])
        if isinstance(ev, ReviewRequired):
            drafts.append(ev)
            handler.ctx.send_event((reviews or [])[len(drafts) - 1])
    return Answered(await handler, shown, drafts, events)
