"""ResearchWorkflow's guarantees, end to end: a cited number that was never read is taken
out and reported, a fabricated quote is flagged (or its claim removed), a note whose quote
is not in its source is dropped before the writer sees it."""

from __future__ import annotations

from pathlib import Path

import respx
from research_wire import BATTERY_CORPUS, ResearchModel, notes, plan, url_of, write_corpus

from agentflow.testing import WorkflowTestRunner
from agents.llm.openai.client import OpenAI
from agents.research import (
    CitationsChecked,
    LocalCorpusSearch,
    ResearchReport,
    ResearchWorkflow,
    SourceRead,
)

QUOTE = "lose capacity faster when they are kept hot"


def heat_only_model(corpus: Path, report: list[str]) -> ResearchModel:
    return ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))],
        notes_by_url={url_of(corpus, "heat.md"): notes(("Heat speeds up ageing.", QUOTE))},
        gaps=[],
        report=report,
    )


async def run(workflow: ResearchWorkflow) -> tuple[ResearchReport, list[object]]:
    result = await WorkflowTestRunner(workflow).run(query="What makes batteries wear out?")
    assert isinstance(result.result, ResearchReport)
    return result.result, result.collected


async def test_a_citation_of_a_source_never_read_is_removed_and_reported(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = heat_only_model(
        corpus,
        [
            f'Heat ages cells [1: "{QUOTE}"]. ',
            "Cold storage doubles battery life [4]. ",
            "Packs are recycled for cobalt [1][3].",
        ],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    report, events = await run(workflow)

    assert [s.id for s in report.sources] == [1]
    assert "[4]" not in report.answer_markdown
    assert "[3]" not in report.answer_markdown
    assert report.answer_markdown == (
        "Heat ages cells [1]. Cold storage doubles battery life. [unverified] "
        "Packs are recycled for cobalt [1]. [unverified]"
    )
    assert [(c.text, c.source_ids, c.problems) for c in report.unverified] == [
        ("Cold storage doubles battery life.", [4], ["cites [4], a source that was not read"]),
        ("Packs are recycled for cobalt.", [1, 3], ["cites [3], a source that was not read"]),
    ]
    assert [c.text for c in report.claims] == ["Heat ages cells."]
    checked = next(e for e in events if isinstance(e, CitationsChecked))
    assert (checked.verified, checked.unverified, checked.removed_citations) == (1, 2, 2)


async def test_a_fabricated_quote_is_flagged(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = heat_only_model(
        corpus,
        [
            f'Heat ages cells [1: "{QUOTE}"]. ',
            'Heat is the only cause of wear [1: "heat is the only thing that matters"].',
        ],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    report, _ = await run(workflow)

    assert report.answer_markdown == (
        "Heat ages cells [1]. Heat is the only cause of wear [1]. [unverified]"
    )
    (flagged,) = report.unverified
    assert flagged.quotes == ["heat is the only thing that matters"]
    assert flagged.problems == [
        'the quote for [1] is not in that source: "heat is the only thing that matters"'
    ]
    assert [c.quotes for c in report.claims] == [[QUOTE]]


async def test_remove_policy_takes_failed_claims_out_of_the_answer(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = heat_only_model(
        corpus,
        [
            "## Findings\n\n",
            f'- Heat ages cells [1: "{QUOTE}"].\n',
            '- Heat is the only cause [1: "made up"].\n',
            "- Cold doubles life [2].",
        ],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)
    workflow.unverified_policy = "remove"

    report, _ = await run(workflow)

    assert report.answer_markdown == "## Findings\n\n- Heat ages cells [1]."
    assert [c.text for c in report.unverified] == ["Heat is the only cause.", "Cold doubles life."]


async def test_notes_whose_quote_is_not_in_the_source_are_dropped_before_writing(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))],
        notes_by_url={
            url_of(corpus, "heat.md"): notes(
                ("Heat speeds up ageing.", "Lithium-ion cells lose capacity faster"),
                ("Heat halves life.", "heat halves the life of every cell"),
            )
        },
        gaps=[],
        report=["Heat speeds up ageing [1]."],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    report, events = await run(workflow)

    (read,) = [e for e in events if isinstance(e, SourceRead)]
    assert (read.notes, read.dropped_notes) == (1, 1)
    write_prompt = model.calls["write"][0]["messages"][-1]["content"]
    assert "Heat speeds up ageing." in write_prompt
    assert "halves" not in write_prompt
    assert report.unverified == []


async def test_nothing_read_gives_a_plain_answer_without_asking_the_writer(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = ResearchModel(
        plans=[plan(("What do penguins eat?", ["penguin diet krill"]))],
        notes_by_url={},
        gaps=[],
        report=[],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    report, _ = await run(workflow)

    assert report.sources == []
    assert report.answer_markdown == ResearchWorkflow.no_sources_answer
    assert model.calls["write"] == []


async def test_sources_read_without_a_usable_note_say_so_not_that_nothing_was_read(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))],
        # A paraphrase, not a quote: the note is dropped, so the source gives nothing.
        notes_by_url={url_of(corpus, "heat.md"): notes(("Heat ages.", "heat makes cells age"))},
        gaps=[],
        report=[],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    report, events = await run(workflow)

    read = [e for e in events if isinstance(e, SourceRead)]
    assert read
    assert all(e.notes == 0 for e in read)
    assert report.answer_markdown == ResearchWorkflow.no_notes_answer.format(count=len(read))
    assert "could be read" not in report.answer_markdown
    assert model.calls["write"] == []
