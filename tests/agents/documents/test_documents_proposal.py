"""SchemaProposalWorkflow over the OpenAI wire: the LLM proposes a schema from a prompt and
the documents' opening, a human approves it, edits it or sends feedback (which goes back
with the earlier proposal), an unusable proposal is re-asked with the validator's error,
and the approved schema drives the extraction, in the same run."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import respx
from documents_wire import ExtractionModel
from lease_fixtures import LEASE_DATA, LEASE_FACTS, LEASE_SCHEMA, LEASE_TEXT
from proposal_wire import LEASE, PROMPT, ProposingModel, answered, message_texts, without

from agentflow.events import HumanResponseEvent
from agents.documents import (
    FileProgress,
    SchemaApproved,
    SchemaProposalError,
    SchemaProposalWorkflow,
    SchemaProposed,
    SchemaReview,
)
from agents.llm.openai.client import OpenAI
from agents.llm.types import ChatMessage


async def test_a_proposal_approved_as_is_drives_the_extraction(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)

    result, shown, _, events = await answered(
        SchemaProposalWorkflow(llm=llm), [SchemaReview(approved=True)]
    )

    (proposed,) = shown
    assert proposed.json_schema == LEASE_SCHEMA
    assert proposed.proposal == 1
    (asked,) = model.asked
    assert PROMPT in message_texts(asked)[1]
    assert "Landlord: Maple Court Properties Ltd." in message_texts(asked)[1]
    # The approved schema, then the extraction's own events, then its result.
    approved = next(i for i, ev in enumerate(events) if isinstance(ev, SchemaApproved))
    assert events[approved].json_schema == LEASE_SCHEMA
    assert any(isinstance(ev, FileProgress) for ev in events[approved:])
    assert not any(isinstance(ev, FileProgress) for ev in events[:approved])
    assert result.data == LEASE_DATA
    assert all(result.fields[name].verified for name in LEASE_DATA)
    landlord = result.fields["landlord"].quotes[0]
    assert (landlord.file, LEASE_TEXT[landlord.start : landlord.end]) == (
        "lease.txt",
        "Landlord: Maple Court Properties Ltd.",
    )
    asked_fields = model.extraction.asked_fields()
    assert asked_fields == [list(LEASE_SCHEMA["properties"])]


async def test_feedback_goes_back_with_the_earlier_proposal(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    first = without(LEASE_SCHEMA, "start_date")
    model = ProposingModel([first, LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)
    feedback = "also the date the lease starts"

    result, shown, _, _ = await answered(
        SchemaProposalWorkflow(llm=llm),
        [SchemaReview(feedback=feedback), HumanResponseEvent(response="yes")],
    )

    assert [ev.json_schema for ev in shown] == [first, LEASE_SCHEMA]
    assert [ev.proposal for ev in shown] == [1, 2]
    again = message_texts(model.asked[1])
    earlier = json.loads(json.loads(again[2])["json_schema"])  # the model's own answer
    assert earlier == first
    assert model.asked[1]["messages"][2]["role"] == "assistant"
    assert feedback in again[3]
    assert message_texts(model.asked[0]) == again[:2]  # same instructions, prompt, excerpt
    assert result.data == LEASE_DATA


async def test_a_human_edits_the_schema_directly(api: respx.MockRouter, llm: OpenAI) -> None:
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)
    edited = without(without(LEASE_SCHEMA, "signatories"), "rent")
    broken = copy.deepcopy(edited)
    broken["properties"]["landlord"]["type"] = "name"

    result, shown, _, _ = await answered(
        SchemaProposalWorkflow(llm=llm),
        [
            SchemaReview(json_schema=broken),
            HumanResponseEvent(response=json.dumps(edited)),  # a console's edit
            SchemaReview(approved=True),
        ],
    )

    assert [ev.json_schema for ev in shown] == [LEASE_SCHEMA, LEASE_SCHEMA, edited]
    (problem,) = shown[1].problems
    assert "at properties.landlord.type" in problem
    assert len(model.asked) == 1  # edits do not go to the LLM
    assert result.data == {"landlord": LEASE_DATA["landlord"], "start_date": "2025-03-01"}
    assert model.extraction.asked_fields() == [["landlord", "start_date"]]


async def test_an_unusable_proposal_is_re_asked_with_the_validators_error(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    invalid = with_rent_type("money")
    undescribed = copy.deepcopy(LEASE_SCHEMA)
    del undescribed["properties"]["rent"]["description"]
    model = ProposingModel(
        [invalid, "{not json", undescribed, LEASE_SCHEMA], ExtractionModel(LEASE_FACTS)
    )
    api.post("/chat/completions").mock(side_effect=model)

    result, shown, _, _ = await answered(
        SchemaProposalWorkflow(llm=llm, max_proposal_attempts=4), [SchemaReview(approved=True)]
    )

    assert [ev.json_schema for ev in shown] == [LEASE_SCHEMA]
    reasks = [message_texts(body)[-1] for body in model.asked[1:]]
    assert "is not a valid JSON Schema: at properties.rent.type" in reasks[0]
    assert "json_schema is not JSON" in reasks[1]
    assert "these fields have no description: rent" in reasks[2]
    # Each re-ask carries the conversation so far: every earlier reply and its error.
    assert len(model.asked[3]["messages"]) == 2 + 3 * 2
    assert result.data == LEASE_DATA


async def test_proposals_that_stay_unusable_end_the_run_with_a_named_error(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    free_form = copy.deepcopy(LEASE_SCHEMA)
    free_form["properties"]["notes"] = {"type": "object", "description": "Anything else."}
    model = ProposingModel([with_rent_type("money"), free_form], ExtractionModel([]))
    api.post("/chat/completions").mock(side_effect=model)

    with pytest.raises(SchemaProposalError, match="no usable schema in 2 attempts") as info:
        await SchemaProposalWorkflow(llm=llm, max_proposal_attempts=2).run(
            PROMPT, documents=[LEASE]
        )

    assert "'notes'" in info.value.error
    assert "additionalProperties" in info.value.error
    assert json.loads(json.loads(info.value.last_reply)["json_schema"]) == free_form


async def test_the_documents_opening_is_cut_to_the_token_budget(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    clauses = "".join(f"Clause {n}: the tenant keeps the garden tidy.\n" for n in range(400))
    long_lease = {"text": LEASE_TEXT + clauses + "Final clause: the end.\n", "name": "long.txt"}
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)
    workflow = SchemaProposalWorkflow(
        llm=llm, proposal_tokens=800, chunk_tokens=200, chunk_overlap=20
    )

    handler = workflow.run(PROMPT, documents=[long_lease])
    async for ev in handler.stream_events():
        if isinstance(ev, SchemaProposed):
            await handler.cancel_run()

    (asked,) = model.asked
    shown = message_texts(asked)[1]
    assert "Landlord: Maple Court Properties Ltd." in shown
    assert "Final clause" not in shown
    request = [ChatMessage(role=m["role"], content=m["content"]) for m in asked["messages"]]
    assert 400 < llm.count_prompt_tokens(request) <= 800


def with_rent_type(kind: str) -> dict[str, Any]:
    changed = copy.deepcopy(LEASE_SCHEMA)
    changed["properties"]["rent"]["type"] = kind
    return changed
