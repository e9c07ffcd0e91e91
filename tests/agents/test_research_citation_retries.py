"""A report that cites nothing: the writer is asked again (`max_citation_retries`), and a
final draft that still cites nothing is flagged on the report, not passed as checked.

Against the real `OpenAI` client with respx at the wire, as a small local model behaves: the
first draft is plain prose without one `[n]`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
from research_wire import BATTERY_CORPUS, ResearchModel, notes, plan, url_of, write_corpus

from agentflow.testing import WorkflowTestRunner
from agents.llm.openai.client import OpenAI
from agents.research import (
    CitationsChecked,
    LocalCorpusSearch,
    ReportDelta,
    ResearchReport,
    ResearchWarning,
    ResearchWorkflow,
    RewriteRequested,
)

UNCITED = ["Heat wears batteries out. ", "Keep them cool."]
CITED = ['Heat wears batteries out [1: "lose capacity faster when they are kept hot"].']
QUESTION = "Why do batteries wear out?"


def heat_writer(corpus: Path, report: list[str], rewrites: list[list[str]]) -> ResearchModel:
    """One round, one source with one note, then the writer's drafts in turn."""
    return ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))],
        notes_by_url={
            url_of(corpus, "heat.md"): notes(
                ("Heat ages cells.", "lose capacity faster when they are kept hot")
            )
        },
        gaps=[],
        report=report,
        rewrites=rewrites,
    )


async def test_a_draft_that_cites_nothing_is_rewritten_with_citations(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = heat_writer(corpus, UNCITED, [CITED])
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    result = await WorkflowTestRunner(workflow).run(query=QUESTION)

    report = result.result
    assert isinstance(report, ResearchReport)
    assert report.answer_markdown == "Heat wears batteries out [1]."
    assert [(c.source_ids, c.quotes) for c in report.claims] == [
        ([1], ["lose capacity faster when they are kept hot"])
    ]
    assert (report.uncited, report.warnings) == (False, [])
    first, second = model.calls["write"]
    assert second["messages"][: len(first["messages"])] == first["messages"]
    draft, note = second["messages"][len(first["messages"]) :]
    assert draft == {"role": "assistant", "content": "".join(UNCITED)}
    assert note["role"] == "user"
    assert "cites no source" in note["content"]
    assert "[n]" in note["content"]
    # The stream: the first draft's deltas, the rewrite's announcement, the second draft's
    # deltas with their text so far starting afresh, then the check of the second.
    kinds = [
        type(e).__name__
        for e in result.collected
        if isinstance(e, ReportDelta | RewriteRequested | CitationsChecked)
    ]
    assert kinds == ["ReportDelta"] * 2 + ["RewriteRequested", "ReportDelta", "CitationsChecked"]
    rewrite = next(e for e in result.collected if isinstance(e, RewriteRequested))
    assert (rewrite.attempt, rewrite.draft) == (1, "".join(UNCITED))
    assert "cites no source" in rewrite.reason
    last_delta = [e for e in result.collected if isinstance(e, ReportDelta)][-1]
    assert last_delta.text == CITED[0]
    checked = next(e for e in result.collected if isinstance(e, CitationsChecked))
    assert (checked.verified, checked.unverified) == (1, 0)


@pytest.mark.parametrize("retries", [0, 1, 2])
async def test_a_writer_that_never_cites_is_asked_retries_times_more_then_flagged(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path, retries: int
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = heat_writer(corpus, UNCITED, [])
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(
        llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1, max_citation_retries=retries
    )

    with pytest.warns(ResearchWarning, match="cites no source"):
        result = await WorkflowTestRunner(workflow).run(query=QUESTION)

    report = result.result
    assert isinstance(report, ResearchReport)
    assert len(model.calls["write"]) == 1 + retries
    assert report.answer_markdown == "".join(UNCITED)
    assert (report.claims, report.unverified) == ([], [])
    assert report.uncited is True
    assert len(report.warnings) == 1
    assert "cites no source" in report.warnings[0]
    rewrites = [e.attempt for e in result.collected if isinstance(e, RewriteRequested)]
    assert rewrites == list(range(1, retries + 1))


async def test_a_draft_with_citations_is_not_asked_again(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = heat_writer(corpus, CITED, [UNCITED])  # a rewrite, if asked, would cite nothing
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    result = await WorkflowTestRunner(workflow).run(query=QUESTION)

    report = result.result
    assert isinstance(report, ResearchReport)
    assert len(model.calls["write"]) == 1
    assert (len(report.claims), report.uncited, report.warnings) == (1, False, [])
    assert not any(isinstance(e, RewriteRequested) for e in result.collected)


async def test_a_draft_whose_citations_all_fail_is_not_asked_again(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    # It cites, but a source never read: the claim is unverified, which the check reports.
    model = heat_writer(corpus, ["Heat wears batteries out [7]."], [CITED])
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    report = await workflow.run(query=QUESTION)

    assert isinstance(report, ResearchReport)
    assert len(model.calls["write"]) == 1
    assert (len(report.unverified), report.uncited) == (1, False)


async def test_the_answer_without_notes_is_not_asked_again_nor_flagged(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = heat_writer(corpus, UNCITED, [])
    model.notes_by_url = {url_of(corpus, "heat.md"): notes(relevant=False)}
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    report = await workflow.run(query=QUESTION)

    assert isinstance(report, ResearchReport)
    assert model.calls["write"] == []
    assert report.answer_markdown == workflow.no_notes_answer.format(count=1)
    assert (report.uncited, report.warnings) == (False, [])


def test_a_negative_retry_count_is_refused(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    llm = OpenAI("gpt-4o-mini", api_key="sk-test", base_url="http://127.0.0.1:9/v1")

    with pytest.raises(ValueError, match="max_citation_retries must be at least 0, got -1"):
        ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_citation_retries=-1)


@pytest.mark.parametrize("failure", ["empty reply", "server error"])
async def test_a_rewrite_that_fails_leaves_the_uncited_draft_flagged(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path, failure: str
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = heat_writer(corpus, UNCITED, [[""]])

    def server(request: httpx.Request) -> httpx.Response:
        answer = model(request)
        rewriting = json.loads(request.content).get("stream") and len(model.calls["write"]) == 2
        if rewriting and failure == "server error":
            return httpx.Response(400, json={"error": {"message": "context length exceeded"}})
        return answer

    api.post("/chat/completions").mock(side_effect=server)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    with pytest.warns(ResearchWarning) as warned:
        result = await WorkflowTestRunner(workflow).run(query=QUESTION)

    report = result.result  # before: the run ended with EmptyReportError / BadRequestError
    assert isinstance(report, ResearchReport)
    assert len(model.calls["write"]) == 2
    assert report.answer_markdown == "".join(UNCITED)
    assert report.uncited is True
    said = [str(w.message) for w in warned]
    assert any("the rewrite asked for citations failed" in text for text in said), said
