"""ResearchWorkflow's searching and reading: duplicate URLs are read once, failures are
reported and skipped, web sources are fetched with `http_get`, `max_sources` and
`max_parallel` hold."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import respx
from research_wire import BATTERY_CORPUS, ResearchModel, notes, plan, url_of, write_corpus

from agentflow.testing import WorkflowTestRunner
from agents.llm.openai.client import OpenAI
from agents.research import (
    LocalCorpusSearch,
    ResearchReport,
    ResearchWarning,
    ResearchWorkflow,
    SearchFailed,
    SearchHit,
    SearchStarted,
    SourceFailed,
    SourceFetcher,
    SourceRead,
)
from tools.builtin.http import WebTools

PAGE_A = "Solid-state cells use a solid electrolyte instead of a liquid one."
PAGE_B = "Sodium-ion cells avoid lithium and cobalt entirely."


def web_fetcher() -> SourceFetcher:
    # allow_private skips the DNS lookup (there is no network); respx answers the GETs.
    return SourceFetcher(web=WebTools(allow_private=True))


async def run(workflow: ResearchWorkflow, query: str = "What comes after lithium-ion?") -> Any:
    result = await WorkflowTestRunner(workflow).run(query=query)
    assert isinstance(result.result, ResearchReport)
    return result


async def test_duplicate_urls_are_read_once_across_queries_and_rounds(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    hits = {
        "solid state battery": [
            SearchHit(url="https://example.org/solid?utm_source=feed", title="Solid"),
            SearchHit(url="https://news.example.com/sodium", title="Sodium"),
        ],
        "next battery chemistry": [
            SearchHit(url="http://www.example.org/solid/#intro", title="Solid again"),
            SearchHit(url="https://example.org/solid", title="Solid, third time"),
        ],
        "sodium ion cells": [SearchHit(url="https://NEWS.example.com/sodium/", title="Sodium")],
    }
    asked: list[tuple[str, int]] = []

    async def search(query: str, k: int) -> list[SearchHit]:
        asked.append((query, k))
        return hits[query]

    page_a = api.get("https://example.org/solid?utm_source=feed").mock(
        return_value=httpx.Response(200, text=PAGE_A, headers={"content-type": "text/plain"})
    )
    page_b = api.get("https://news.example.com/sodium").mock(
        return_value=httpx.Response(200, text=PAGE_B, headers={"content-type": "text/plain"})
    )
    model = ResearchModel(
        plans=[
            plan(("Which chemistries are next?", ["solid state battery", "next battery chemistry"]))
        ],
        notes_by_url={
            "https://example.org/solid?utm_source=feed": notes(
                ("Solid electrolyte.", "a solid electrolyte")
            ),
            "https://news.example.com/sodium": notes(("No lithium.", "avoid lithium and cobalt")),
        },
        gaps=[[("What about sodium?", ["sodium ion cells"])]],
        report=['Solid-state cells use a solid electrolyte [1: "a solid electrolyte"].'],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=search, max_rounds=2, fetcher=web_fetcher())

    result = await run(workflow)

    assert page_a.call_count == 1
    assert page_b.call_count == 1
    assert sorted(model.read_urls) == [
        "https://example.org/solid?utm_source=feed",
        "https://news.example.com/sodium",
    ]
    assert [(q, k) for q, k in asked] == [
        ("solid state battery", 5),
        ("next battery chemistry", 5),
        ("sodium ion cells", 5),
    ]
    report = result.result
    assert [(s.id, s.title) for s in report.sources] == [(1, "Solid"), (2, "Sodium")]
    # round 2 found only a URL already read: nothing new to read
    reads = [(e.round, e.url) for e in result.collected if isinstance(e, SourceRead)]
    assert sorted(reads) == [
        (1, "https://example.org/solid?utm_source=feed"),
        (1, "https://news.example.com/sodium"),
    ]
    # the reader was told every sub-question that found the page
    (sodium_read,) = [
        c for c in model.calls["SourceNotes"] if "sodium" in c["messages"][-1]["content"]
    ]
    assert "- Which chemistries are next?" in sodium_read["messages"][-1]["content"]
    assert report.claims[0].source_ids == [1]


async def test_a_failing_search_and_an_unreadable_source_are_reported_and_skipped(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    async def search(query: str, k: int) -> list[SearchHit]:
        if query == "broken query":
            raise ConnectionError("search service unreachable")
        return [
            SearchHit(url="https://example.org/gone", title="Gone"),
            SearchHit(url="https://example.org/solid", title="Solid"),
            SearchHit(url="ftp://example.org/file.txt", title="FTP"),
        ]

    api.get("https://example.org/gone").mock(return_value=httpx.Response(404))
    api.get("https://example.org/solid").mock(
        return_value=httpx.Response(200, text=PAGE_A, headers={"content-type": "text/plain"})
    )
    model = ResearchModel(
        plans=[plan(("Which chemistries are next?", ["broken query", "solid state"]))],
        notes_by_url={"https://example.org/solid": notes(("Solid.", "a solid electrolyte"))},
        gaps=[],
        report=['Solid electrolytes [2: "a solid electrolyte"].'],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=search, max_rounds=1, fetcher=web_fetcher())

    with pytest.warns(ResearchWarning) as warned:
        result = await run(workflow)

    events = result.collected
    (failed_search,) = [e for e in events if isinstance(e, SearchFailed)]
    assert failed_search.query == "broken query"
    assert "search service unreachable" in failed_search.error
    failed = {e.url: e.error for e in events if isinstance(e, SourceFailed)}
    assert set(failed) == {"https://example.org/gone", "ftp://example.org/file.txt"}
    assert "404" in failed["https://example.org/gone"]
    assert "only http(s) URLs" in failed["ftp://example.org/file.txt"]
    assert len(warned) == 3
    report = result.result
    assert [(s.id, s.url) for s in report.sources] == [(2, "https://example.org/solid")]
    assert report.answer_markdown == "Solid electrolytes [2]."


async def test_max_sources_bounds_the_sources_read(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = ResearchModel(
        plans=[plan(("Why do cells wear?", ["cell charge capacity temperature"]))],
        notes_by_url={url_of(corpus, name): notes() for name in BATTERY_CORPUS},
        gaps=[],
        report=["Nothing certain."],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(
        llm=llm, search=LocalCorpusSearch(corpus), max_rounds=3, max_sources=1
    )

    result = await run(workflow)

    assert len(result.result.sources) == 1
    assert len(model.read_urls) == 1
    assert model.calls["GapReport"] == []  # no source left to read: no further round


async def test_max_parallel_bounds_concurrent_searches(api: respx.MockRouter, llm: OpenAI) -> None:
    active = 0
    peak = 0
    gate = asyncio.Event()

    async def search(query: str, k: int) -> list[SearchHit]:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        if active == 2:
            # Opened on a later turn of the loop: searches already started get to run
            # first, so a limit that let more than two in would show in `peak`.
            asyncio.get_running_loop().call_soon(gate.set)
        await gate.wait()
        active -= 1
        return []

    queries = [f"query {n}" for n in range(6)]
    model = ResearchModel(plans=[plan(("Q?", queries))], notes_by_url={}, gaps=[], report=[])
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=search, max_rounds=1, max_parallel=2)
    workflow.queries_per_question = 6

    await run(workflow)

    assert peak == 2


async def test_a_model_error_while_reading_ends_the_run_naming_the_step_and_source(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    model = ResearchModel(
        plans=[plan(("Why does heat age batteries?", ["battery heat capacity"]))],
        notes_by_url={},
        gaps=[],
        report=[],
    )
    rejected = httpx.Response(
        400, json={"error": {"message": "context too long", "type": "invalid_request_error"}}
    )
    api.post("/chat/completions").mock(side_effect=[model, rejected])
    workflow = ResearchWorkflow(llm=llm, search=LocalCorpusSearch(corpus), max_rounds=1)

    with pytest.raises(openai.BadRequestError, match="context too long") as raised:
        await workflow.run(query="What makes batteries wear out?")

    notes_ = "\n".join(raised.value.__notes__)
    assert "step 'read'" in notes_
    assert f"while reading source [1] {url_of(corpus, 'heat.md')}" in notes_


async def test_a_gap_round_runs_no_more_queries_than_a_plan_may(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    async def search(query: str, k: int) -> list[SearchHit]:
        return []

    gap_queries = [f"gap query {n}" for n in range(5)]
    model = ResearchModel(
        plans=[plan(("Q?", ["first query"]))],
        notes_by_url={},
        gaps=[[("Still open?", gap_queries)]],
        report=[],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=search, max_rounds=2)

    result = await run(workflow)

    searched = [(e.round, e.query) for e in result.collected if isinstance(e, SearchStarted)]
    assert searched == [(1, "first query"), (2, "gap query 0"), (2, "gap query 1")]


async def test_a_hit_with_a_malformed_url_is_a_source_failure_not_a_failed_run(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    async def search(query: str, k: int) -> list[SearchHit]:
        return [
            SearchHit(url="https://[example.org/solid", title="Unclosed bracket"),
            SearchHit(url="https://example.org/solid", title="Solid"),
        ]

    api.get("https://example.org/solid").mock(
        return_value=httpx.Response(200, text=PAGE_A, headers={"content-type": "text/plain"})
    )
    model = ResearchModel(
        plans=[plan(("Which chemistries are next?", ["solid state"]))],
        notes_by_url={"https://example.org/solid": notes(("Solid.", "a solid electrolyte"))},
        gaps=[],
        report=['Solid electrolytes [2: "a solid electrolyte"].'],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(llm=llm, search=search, max_rounds=1, fetcher=web_fetcher())

    with pytest.warns(ResearchWarning, match=r"\[example.org"):
        result = await run(workflow)

    (failed,) = [e for e in result.collected if isinstance(e, SourceFailed)]
    assert failed.url == "https://[example.org/solid"
    assert [(s.id, s.url) for s in result.result.sources] == [(2, "https://example.org/solid")]
