"""ResearchWorkflow end to end against the real `OpenAI` client (respx at the wire) and a
local corpus the tests write: rounds, progress events, streaming, usage."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from lazy_decoder import LazyDecoder, null_branches
from llm_wire import refusal_reply, sent_json
from research_wire import BATTERY_CORPUS, ResearchModel, notes, plan, url_of, write_corpus

from agentflow import Context, step
from agentflow.testing import WorkflowTestRunner
from agents.llm.errors import EmptyResponseError, LLMRefusalError
from agents.llm.openai.client import OpenAI
from agents.research import (
    CitationsChecked,
    LocalCorpusSearch,
    PlanCreated,
    ReportDelta,
    ResearchError,
    ResearchReport,
    ResearchWorkflow,
    RoundFinished,
    SearchStarted,
    SourceRead,
)
from agents.research.events import DraftWritten, WriteRequest
from agents.research.run_state import ResearchWorkflowState


def two_round_model(heat: str, charging: str) -> ResearchModel:
    """Plans one sub-question, finds a second missing after round 1, cites both sources."""
    return ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))],
        notes_by_url={
            heat: notes(
                ("Heat speeds up capacity loss.", "lose capacity faster when they are kept hot")
            ),
            charging: notes(("Partial charging slows wear.", "between 20 and 80 percent charge")),
        },
        gaps=[[("How does charging affect wear?", ["charging wear"])], []],
        report=[
            "Heat and charging habits both matter. ",
            'Cells age faster when hot [1: "lose capacity faster when they are kept hot"]. ',
            'Staying between 20 and 80 percent helps [2: "between 20 and 80 percent charge"].',
        ],
    )


async def test_two_rounds_search_read_and_write_a_checked_report(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    heat, charging = url_of(corpus, "heat.md"), url_of(corpus, "charging.md")
    model = two_round_model(heat, charging)
    route = api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=3)

    result = await WorkflowTestRunner(workflow).run(
        query="What makes batteries wear out?", expose_internal=False
    )

    report = result.result
    assert isinstance(report, ResearchReport)
    assert report.rounds == 2
    assert [(s.id, s.url, s.title) for s in report.sources] == [
        (1, heat, "Heat and battery ageing"),
        (2, charging, "Charging habits"),
    ]
    assert report.answer_markdown == (
        "Heat and charging habits both matter. Cells age faster when hot [1]. "
        "Staying between 20 and 80 percent helps [2]."
    )
    assert [(c.source_ids, c.quotes) for c in report.claims] == [
        ([1], ["lose capacity faster when they are kept hot"]),
        ([2], ["between 20 and 80 percent charge"]),
    ]
    assert report.unverified == []
    # plan, read, gaps, read, gaps, write: usage is the six calls' (12 + 5 each, 300 + 60)
    assert route.call_count == 6
    assert report.usage.total_tokens == 5 * 17 + 360

    events = result.collected
    searches = [(e.round, e.query) for e in events if isinstance(e, SearchStarted)]
    assert searches == [(1, "battery heat capacity"), (2, "charging wear")]
    assert [(e.round, e.source_id, e.notes) for e in events if isinstance(e, SourceRead)] == [
        (1, 1, 1),
        (2, 2, 1),
    ]
    rounds = [e for e in events if isinstance(e, RoundFinished)]
    assert [(r.round, r.next_round, r.missing) for r in rounds] == [
        (1, True, ["How does charging affect wear?"]),
        (2, False, []),
    ]
    assert isinstance(events[0], PlanCreated)
    deltas = [e for e in events if isinstance(e, ReportDelta)]
    assert len(deltas) == 3
    assert deltas[-1].text.startswith("Heat and charging habits")
    checked = next(e for e in events if isinstance(e, CitationsChecked))
    assert (checked.verified, checked.unverified, checked.removed_citations) == (2, 0, 0)
    # the writer saw both sources' notes with their numbers and quotes
    write_prompt = model.calls["write"][0]["messages"][-1]["content"]
    assert f"[1] Heat and battery ageing ({heat})" in write_prompt
    assert '"between 20 and 80 percent charge"' in write_prompt
    assert sent_json(route.calls[0].request)["response_format"]["json_schema"]["strict"] is True


class TemplateReport(ResearchWorkflow):
    """Writes the report from the notes without the LLM: one step replaced, the rest kept."""

    @step
    async def write(self, ctx: Context[ResearchWorkflowState], ev: WriteRequest) -> DraftWritten:
        async with ctx.store.edit_state() as state:
            lines = [
                f"- {note.point} [{source.id}: {json.dumps(note.quote)}]"
                for source in state.current_run().sources
                for note in source.notes
            ]
        return DraftWritten(markdown="\n".join(lines))


async def test_a_subclass_replaces_one_step_and_keeps_the_citation_check(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))],
        notes_by_url={
            url_of(corpus, "heat.md"): notes(("Heat speeds up capacity loss.", "kept hot"))
        },
        gaps=[],
        report=[],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = TemplateReport(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    report = await workflow.run(query="What makes batteries wear out?")

    assert isinstance(report, ResearchReport)
    assert report.answer_markdown == "- Heat speeds up capacity loss. [1]"
    assert [c.quotes for c in report.claims] == [["kept hot"]]
    assert model.calls["write"] == []


async def test_an_empty_question_is_refused_before_the_model_is_asked(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus))

    with pytest.raises(ValueError, match="query is empty"):
        await workflow.run(query="  \n")

    assert not api.calls


async def test_the_report_prints_as_its_text_and_run_takes_the_question_first(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))] * 2,
        notes_by_url={
            url_of(corpus, "heat.md"): notes(("Heat speeds up capacity loss.", "kept hot"))
        },
        gaps=[],
        report=[],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = TemplateReport(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    print(await workflow.run("What makes batteries wear out?"))
    ctx: Context[Any] = Context(workflow)
    report = await workflow.run(ctx, query="What makes batteries wear out?")

    assert capsys.readouterr().out == "- Heat speeds up capacity loss. [1]\n"
    assert isinstance(report, ResearchReport)
    assert str(report) == report.answer_markdown
    assert report.query == "What makes batteries wear out?"
    with pytest.raises(TypeError, match="query twice"):
        workflow.run("one", query="two")  # type: ignore[call-overload]


async def memory_held_by_unread_report(workflow: ResearchWorkflow, words: int) -> int:
    """Bytes allocated by a run and still held once it has finished, its handler (and so
    its stream, which nobody read) kept."""
    gc.collect()
    tracemalloc.start()
    try:
        handler = workflow.run("Why do batteries wear out?")
        report = await handler
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert isinstance(report, ResearchReport)
    assert report.answer_markdown.count("token") == words
    assert not handler.ctx.is_running  # the run is over; its events wait in the stream
    return held


async def test_an_unread_report_stream_holds_memory_linear_in_the_report(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    heat = url_of(corpus, "heat.md")
    model = ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))] * 3,
        notes_by_url={
            heat: notes(("Heat ages cells.", "lose capacity faster when they are kept hot"))
        },
        gaps=[],
        report=["Warm up [1]."],  # the first run loads what every run shares
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)
    await workflow.run("Why do batteries wear out?")
    words = 1500

    model.report = ["token "] * words + ["[1]."]
    short = await memory_held_by_unread_report(workflow, words)
    model.report = ["token "] * (2 * words) + ["[1]."]
    long = await memory_held_by_unread_report(workflow, 2 * words)

    # With the report so far copied into each ReportDelta, memory grows as the square of
    # the report: doubling it would hold about four times as much.
    assert long < 2.5 * short


async def test_report_delta_text_is_the_report_so_far(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    heat = url_of(corpus, "heat.md")
    model = ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))],
        notes_by_url={
            heat: notes(("Heat ages cells.", "lose capacity faster when they are kept hot"))
        },
        gaps=[],
        report=["Heat ", "ages ", "cells [1]."],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    result = await WorkflowTestRunner(workflow).run(query="Why do batteries wear out?")

    deltas = [e for e in result.collected if isinstance(e, ReportDelta)]
    assert [e.delta for e in deltas] == ["Heat ", "ages ", "cells [1]."]
    assert [e.text for e in deltas] == ["Heat ", "Heat ages ", "Heat ages cells [1]."]
    assert json.loads(deltas[1].model_dump_json())["text"] == "Heat ages "
    assert ReportDelta(delta="cells.", text="Heat ages cells.").text == "Heat ages cells."
    assert ReportDelta(delta="cells.").text == "cells."


class RefusingWriter(ResearchModel):
    """Plans, reads and finds gaps, then refuses to write the report."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body.get("stream"):
            self.calls["write"].append(body)
            return refusal_reply("I can't write ", "about that.")
        return super().__call__(request)


def heat_model(report: list[str], model: type[ResearchModel] = ResearchModel) -> ResearchModel:
    return model(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))],
        notes_by_url={},
        gaps=[],
        report=report,
    )


@pytest.mark.parametrize("writer", ["refusal", "empty"])
async def test_a_report_the_writer_refused_or_left_empty_is_an_error_not_an_empty_report(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path, writer: str
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = heat_model([], RefusingWriter) if writer == "refusal" else heat_model([])
    model.notes_by_url = {
        url_of(corpus, "heat.md"): notes(
            ("Heat ages cells.", "lose capacity faster when they are kept hot")
        )
    }
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    with pytest.raises(EmptyResponseError if writer == "empty" else LLMRefusalError) as raised:
        await workflow.run("Why do batteries wear out?")

    assert len(model.calls["write"]) == 1
    if writer == "refusal":
        assert raised.value.refusal == "I can't write about that."  # type: ignore[attr-defined]
    else:
        assert isinstance(raised.value, ResearchError)
        assert "the report written by model 'gpt-4o-mini' is empty" in str(raised.value)


async def test_plans_notes_and_gaps_from_a_decoder_that_takes_every_free_null(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    heat, charging = url_of(corpus, "heat.md"), url_of(corpus, "charging.md")
    model = two_round_model(heat, charging)
    decoder = LazyDecoder(model)
    api.post("/chat/completions").mock(side_effect=decoder)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=3)

    report = await workflow.run(query="What makes batteries wear out?")

    assert isinstance(report, ResearchReport)
    assert (report.rounds, [s.url for s in report.sources]) == (2, [heat, charging])
    assert (len(report.claims), report.unverified) == (2, [])
    assert decoder.rewritten == 0
    for kind in ("ResearchPlan", "SourceNotes", "GapReport"):
        schema = model.calls[kind][0]["response_format"]["json_schema"]["schema"]
        assert null_branches(schema) == [], kind
