"""extract_each: a batch of independent documents gives one outcome per document, in the
order given, nothing merged across documents; a bad one is an outcome with its error."""

from __future__ import annotations

from pathlib import Path

import pytest
import respx
from documents_wire import ExtractionModel, Fact
from invoice_fixtures import Order

from agentflow.events import Event
from agents.documents import (
    DocumentOutcome,
    ExtractionWorkflow,
    FileProgress,
    IncompleteExtractionError,
    ReviewRequired,
    ReviewResponse,
    UnreadableFileError,
    extract_each,
)
from agents.llm.openai.client import OpenAI

FACTS = [
    Fact("vendor", "Acme", "Vendor: Acme"),
    Fact("vendor", "Globex", "Vendor: Globex"),
    Fact("total", 10.0, "Total: 10.00"),
    Fact("total", 20.0, "Total: 20.00"),
]


async def test_each_document_gets_its_own_result(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    api.post("/chat/completions").mock(side_effect=ExtractionModel(FACTS))
    first = tmp_path / "a.txt"
    first.write_text("Vendor: Acme\nTotal: 10.00\n", encoding="utf-8")
    broken = tmp_path / "b.pdf"
    broken.write_bytes(b"%PDF-1.4 nothing here")
    progress: list[tuple[str, str]] = []

    def seen(name: str, event: Event) -> None:
        if isinstance(event, FileProgress) and event.stage == "done":
            progress.append((Path(name).name, event.stage))

    workflow = ExtractionWorkflow(llm=llm, schema=Order)
    outcomes = await extract_each(
        workflow,
        files=[first, broken],
        documents=["Vendor: Globex\nTotal: 20.00\n", "Vendor: Acme, no total"],
        concurrency=2,
        on_event=seen,
    )

    a, b, globex, no_total = outcomes
    assert isinstance(a, DocumentOutcome)
    assert a.result is not None
    assert a.result.data == Order(vendor="Acme", total=10.0)
    assert a.result.fields["vendor"].alternatives == []  # not merged with Globex
    assert isinstance(b.error, UnreadableFileError)
    assert b.error.file == str(broken)
    assert globex.result is not None
    assert globex.result.data == Order(vendor="Globex", total=20.0)
    assert globex.file == "document 1"
    assert isinstance(no_total.error, IncompleteExtractionError)
    assert "total: not found in any document" in str(no_total.error)
    assert sorted(progress) == [("a.txt", "done"), ("document 1", "done"), ("document 2", "done")]


async def test_reviews_are_answered_per_document(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(side_effect=ExtractionModel(FACTS))
    asked: list[str] = []

    async def review(name: str, event: ReviewRequired) -> ReviewResponse:
        asked.append(name)
        return ReviewResponse(approved=True, corrections={"total": event.data["total"] + 1})

    workflow = ExtractionWorkflow(llm=llm, schema=Order, review="always")
    outcomes = await extract_each(
        workflow,
        documents=[
            {"text": "Vendor: Acme\nTotal: 10.00", "name": "one"},
            {"text": "Vendor: Globex\nTotal: 20.00", "name": "two"},
        ],
        on_review=review,
    )

    assert sorted(asked) == ["one", "two"]
    assert [o.result.data.total for o in outcomes if o.result] == [11.0, 21.0]
    with pytest.raises(ValueError, match="pass on_review="):
        await extract_each(workflow, documents=["x"])
