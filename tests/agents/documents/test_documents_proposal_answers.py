"""What a `SchemaProposalWorkflow` does with answers that are not one clear answer to its
question (another question's answer, contradicting fields, an edit without descriptions),
and what its revision requests carry: every feedback so far, within `proposal_tokens`."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import respx
from documents_wire import ExtractionModel
from lease_fixtures import LEASE_DATA, LEASE_FACTS, LEASE_SCHEMA, LEASE_TEXT
from proposal_wire import LEASE, PROMPT, ProposingModel, answered, message_texts, without

from agents.documents import (
    ProposalBudgetError,
    ReviewResponse,
    SchemaProposalWorkflow,
    SchemaProposed,
    SchemaReview,
)
from agents.llm.openai.client import OpenAI
from agents.llm.types import ChatMessage


async def test_a_draft_reviews_answer_to_the_schema_is_refused_not_read_as_approval(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)

    result, shown, _, _ = await answered(
        SchemaProposalWorkflow(llm=llm),
        [ReviewResponse(feedback="drop the signatories"), SchemaReview(approved=True)],
    )

    assert len(shown) == 2
    (problem,) = shown[1].problems
    assert "ReviewResponse is not an answer" in problem
    assert "SchemaReview" in problem
    assert len(model.asked) == 1
    assert result.data == LEASE_DATA


async def test_a_schema_answer_to_the_draft_review_is_refused_not_read_as_approval(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)

    result, _, drafts, _ = await answered(
        SchemaProposalWorkflow(llm=llm, review="always"),
        [SchemaReview(approved=True)],
        [SchemaReview(feedback="the rent is wrong"), ReviewResponse(approved=True)],
    )

    assert len(drafts) == 2
    (problem,) = drafts[1].problems
    assert "SchemaReview is not an answer" in problem
    assert "ReviewResponse" in problem
    assert result.reviews == 2
    assert result.data == LEASE_DATA


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (SchemaReview(approved=True, feedback="add the deposit"), "approved=True accepts"),
        (SchemaReview(json_schema=LEASE_SCHEMA, feedback="add the deposit"), "both given"),
        (SchemaReview(), "neither approves, edits"),
    ],
)
async def test_an_answer_whose_fields_contradict_or_say_nothing_is_shown_again_with_why(
    api: respx.MockRouter, llm: OpenAI, answer: SchemaReview, problem: str
) -> None:
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)

    result, shown, _, _ = await answered(
        SchemaProposalWorkflow(llm=llm), [answer, SchemaReview(approved=True)]
    )

    assert [ev.json_schema for ev in shown] == [LEASE_SCHEMA, LEASE_SCHEMA]
    (said,) = shown[1].problems
    assert problem in said
    assert len(model.asked) == 1  # nothing went to the LLM
    assert result.data == LEASE_DATA


async def test_an_edit_without_descriptions_is_refused_as_a_proposal_would_be(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)
    undescribed = copy.deepcopy(LEASE_SCHEMA)
    del undescribed["properties"]["landlord"]["description"]

    result, shown, _, _ = await answered(
        SchemaProposalWorkflow(llm=llm),
        [SchemaReview(json_schema=undescribed, approved=True), SchemaReview(approved=True)],
    )

    assert [ev.json_schema for ev in shown] == [LEASE_SCHEMA, LEASE_SCHEMA]
    (problem,) = shown[1].problems
    assert "the edited schema was not used" in problem
    assert "no description: landlord" in problem
    assert result.data == LEASE_DATA


async def test_each_revision_carries_every_feedback_so_far_and_the_latest_proposal(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    first = without(without(LEASE_SCHEMA, "start_date"), "signatories")
    second = without(LEASE_SCHEMA, "signatories")
    model = ProposingModel([first, second, LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)

    result, shown, _, _ = await answered(
        SchemaProposalWorkflow(llm=llm),
        [
            SchemaReview(feedback="also the start date"),
            SchemaReview(feedback="and who signed"),
            SchemaReview(approved=True),
        ],
    )

    assert [ev.json_schema for ev in shown] == [first, second, LEASE_SCHEMA]
    third = message_texts(model.asked[2])
    assert len(third) == 4  # instructions, documents, the latest proposal, the feedback
    assert '\\"start_date\\"' in third[2]  # the latest proposal, not the first
    assert "and who signed" in third[3]
    assert "also the start date" in third[3]  # the earlier feedback still holds
    assert result.data == LEASE_DATA


def as_messages(body: dict[str, Any]) -> list[ChatMessage]:
    return [ChatMessage(role=m["role"], content=m["content"]) for m in body["messages"]]


async def test_a_revision_request_stays_within_the_token_budget(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    clauses = "".join(f"Clause {n}: the tenant keeps the garden tidy.\n" for n in range(400))
    long_lease = {"text": LEASE_TEXT + clauses, "name": "long.txt"}
    model = ProposingModel([LEASE_SCHEMA, LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)
    workflow = SchemaProposalWorkflow(
        llm=llm, proposal_tokens=1200, chunk_tokens=200, chunk_overlap=20
    )
    feedback = "name every clause about the garden, " * 20

    handler = workflow.run(PROMPT, documents=[long_lease])
    async for ev in handler.stream_events():
        if isinstance(ev, SchemaProposed) and ev.proposal == 1:
            handler.ctx.send_event(SchemaReview(feedback=feedback))
        elif isinstance(ev, SchemaProposed):
            await handler.cancel_run()

    first, revision = model.asked
    assert feedback.strip() in message_texts(revision)[3]
    assert len(message_texts(revision)[1]) < len(message_texts(first)[1])  # a shorter excerpt
    assert "Landlord: Maple Court Properties Ltd." in message_texts(revision)[1]
    for body in (first, revision):
        assert workflow.request_tokens(as_messages(body)) <= 1200


async def test_feedback_that_leaves_no_room_for_the_documents_is_a_named_error(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)
    workflow = SchemaProposalWorkflow(llm=llm, proposal_tokens=900)

    handler = workflow.run(PROMPT, documents=[LEASE])
    async for ev in handler.stream_events():
        if isinstance(ev, SchemaProposed):
            handler.ctx.send_event(SchemaReview(feedback="add the deposit " * 200))
    with pytest.raises(ProposalBudgetError, match="proposal_tokens=900"):
        await handler

    assert len(model.asked) == 1  # the over-long request was never sent


async def test_an_edit_whose_reply_model_strict_mode_refuses_is_shown_again(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ProposingModel([LEASE_SCHEMA], ExtractionModel(LEASE_FACTS))
    api.post("/chat/completions").mock(side_effect=model)
    no_items = copy.deepcopy(LEASE_SCHEMA)
    no_items["properties"]["tags"] = {"type": "array", "description": "Tags."}

    result, shown, _, _ = await answered(
        SchemaProposalWorkflow(llm=llm),
        [SchemaReview(json_schema=no_items, approved=True), SchemaReview(approved=True)],
    )

    (problem,) = shown[1].problems
    assert "the edited schema was not used" in problem
    assert "tags" in problem
    assert result.data == LEASE_DATA
