"""Plan review (`review_plan=True`): the plan waits for a human, who approves it, edits it,
sends feedback for the LLM to revise it, or rejects it; a console's plain text answer
works too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import respx
from research_wire import BATTERY_CORPUS, ResearchModel, notes, plan, url_of, write_corpus

from agentflow import Context
from agentflow.events import HumanResponseEvent
from agents.llm.openai.client import OpenAI
from agents.research import (
    LocalCorpusSearch,
    PlanCreated,
    PlanError,
    PlanReview,
    PlanReviewResponse,
    ResearchPlan,
    ResearchReport,
    ResearchWorkflow,
    SearchStarted,
    SubQuestion,
)
from agents.research.review import read_review

DRAFT = plan(("Why does heat age batteries?", ["battery heat capacity"]))


def model_for(corpus: Path, plans: list[dict[str, object]]) -> ResearchModel:
    return ResearchModel(
        plans=plans,
        notes_by_url={
            url_of(corpus, "heat.md"): notes(("Heat ages cells.", "kept hot")),
            url_of(corpus, "charging.md"): notes(("Charge limits help.", "80 percent charge")),
            url_of(corpus, "recycling.txt"): notes(("Packs are recycled.", "recovers cobalt")),
        },
        gaps=[],
        report=['Charging to 80 percent helps [1: "80 percent charge"].'],
    )


async def test_a_plan_edited_by_the_human_is_the_one_searched(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = model_for(corpus, [DRAFT])
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(
        llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1, review_plan=True
    )
    edited = ResearchPlan(
        sub_questions=[
            SubQuestion(question="Does charging habit matter?", queries=["charging wear"])
        ]
    )

    handler = workflow.run(query="What makes batteries wear out?")
    events = []
    async for ev in handler.stream_events():
        events.append(ev)
        if isinstance(ev, PlanReview):
            assert ev.plan.sub_questions[0].queries == ["battery heat capacity"]
            assert "1. Why does heat age batteries?" in ev.prefix
            handler.ctx.send_event(PlanReviewResponse(plan=edited))
    report = await handler

    assert isinstance(report, ResearchReport)
    assert report.plan == edited
    assert [e.query for e in events if isinstance(e, SearchStarted)] == ["charging wear"]
    assert [(e.revision, e.plan) for e in events if isinstance(e, PlanCreated)][1] == (1, edited)
    assert len(model.calls["ResearchPlan"]) == 1
    assert [s.url for s in report.sources] == [url_of(corpus, "charging.md")]


async def test_feedback_has_the_llm_revise_the_plan_then_a_console_yes_approves_it(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    revised = plan(("How is a spent pack recycled?", ["recycling cobalt"]))
    model = model_for(corpus, [DRAFT, revised])
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(
        llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1, review_plan=True
    )

    handler = workflow.run(query="What happens to old batteries?")
    reviews: list[PlanReview] = []
    async for ev in handler.stream_events():
        if isinstance(ev, PlanReview):
            reviews.append(ev)
            answer = "Focus on recycling instead" if len(reviews) == 1 else "yes"
            handler.ctx.send_event(HumanResponseEvent(response=answer))
    report = await handler

    assert isinstance(report, ResearchReport)
    assert [r.plan.sub_questions[0].question for r in reviews] == [
        "Why does heat age batteries?",
        "How is a spent pack recycled?",
    ]
    replan = model.calls["ResearchPlan"][1]["messages"][-1]["content"]
    assert "Focus on recycling instead" in replan
    assert "1. Why does heat age batteries?" in replan
    assert [s.url for s in report.sources] == [url_of(corpus, "recycling.txt")]


async def test_a_rejected_plan_ends_the_run_with_plan_error(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    api.post("/chat/completions").mock(side_effect=model_for(corpus, [DRAFT]))
    workflow = ResearchWorkflow(
        llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1, review_plan=True
    )

    handler = workflow.run(query="What makes batteries wear out?")
    async for ev in handler.stream_events():
        if isinstance(ev, PlanReview):
            handler.ctx.send_event(PlanReviewResponse(approved=False))
    with pytest.raises(PlanError, match="was rejected in review"):
        await handler


def test_console_answers_are_read_as_approval_rejection_plan_or_feedback() -> None:
    edited = {"sub_questions": [{"question": "Q?", "queries": ["q"]}]}
    assert read_review(HumanResponseEvent(response="")).approved
    assert read_review(HumanResponseEvent(response=" Yes ")).approved
    assert read_review(HumanResponseEvent(response="no")).rejected
    from_json = read_review(HumanResponseEvent(response=json.dumps(edited)))
    assert from_json.approved
    assert from_json.plan == ResearchPlan.model_validate(edited)
    bad = read_review(HumanResponseEvent(response='{"sub_questions": 3}'))
    assert bad.error is not None
    assert not bad.approved
    assert read_review(HumanResponseEvent(response="add costs")).feedback == "add costs"


async def test_a_run_saved_while_the_plan_waits_resumes_there(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = model_for(corpus, [plan(("How do charge limits help?", ["80 percent charge"]))])
    api.post("/chat/completions").mock(side_effect=model)

    def make() -> ResearchWorkflow:
        return ResearchWorkflow(
            llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1, review_plan=True
        )

    workflow = make()
    handler = workflow.run(query="What makes batteries wear out?")
    async for ev in handler.stream_events():
        if isinstance(ev, PlanReview):
            break
    saved: dict[str, Any] = json.loads(json.dumps(handler.ctx.to_dict()))
    await handler.cancel_run()

    workflow = make()  # as in another process
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    async for ev in resumed.stream_events():
        if isinstance(ev, PlanReview):
            resumed.ctx.send_event(PlanReviewResponse())
    report = await resumed

    assert isinstance(report, ResearchReport)
    assert report.query == "What makes batteries wear out?"
    assert len(model.calls["ResearchPlan"]) == 1  # the plan was not made again
    assert url_of(corpus, "charging.md") in [s.url for s in report.sources]
    assert report.claims[0].quotes == ["80 percent charge"]
