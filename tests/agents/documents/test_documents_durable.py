"""ExtractionWorkflow run with a store, crashed while one chunk's request is still out at
the wire (a copy of the SQLite files as a `kill -9` would leave them), and resumed in a
fresh workflow: the result is an uninterrupted run's, and only that chunk is asked again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from documents_wire import ExtractionModel, Fact, document_text
from durable_agent_runs import crash_image
from invoice_fixtures import INVOICE, INVOICE_FACTS, INVOICE_TEXT, Invoice, Order

from agentflow import Context, step
from agentflow.stores import SqliteStore
from agents.documents import ExtractionResult, ExtractionWorkflow
from agents.documents.events import ChunkExtracted, FileFailed, MergeRequest
from agents.llm.openai.client import OpenAI

HANGING = "Total due"
"""The chunk whose request is still out at the crash."""


class CountingExtraction(ExtractionWorkflow):
    """Tells when `results_seen` chunk results reached the collector (each routed only once
    the extraction that made it is journalled)."""

    def __init__(self, *args: Any, results_seen: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.results_seen = results_seen
        self.seen = 0
        self.reached: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @step(num_workers=1)
    async def collect(
        self, ctx: Context[Any], ev: ChunkExtracted | FileFailed
    ) -> MergeRequest | None:
        self.seen += 1
        if self.seen == self.results_seen:
            self.reached.set_result(None)
        return await super().collect(ctx, ev)


def extraction(llm: OpenAI, store: SqliteStore, results_seen: int = 0) -> CountingExtraction:
    return CountingExtraction(
        llm=llm,
        schema=Invoice,
        chunk_tokens=60,
        chunk_overlap=10,
        num_workers=2,
        store=store,
        timeout=None,
        results_seen=results_seen,
    )


async def test_an_extraction_resumes_asking_only_for_the_chunk_in_flight(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    model = ExtractionModel(INVOICE_FACTS)
    hang = False
    out_at_the_wire = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        if hang and HANGING in document_text(json.loads(request.content)):
            out_at_the_wire.set()
            await asyncio.Event().wait()
        return model(request)

    api.post("/chat/completions").mock(side_effect=answer)
    async with SqliteStore(tmp_path / "whole.db") as store:
        expected = await extraction(llm, store).run(documents=[INVOICE_TEXT], run_id="r")
    assert isinstance(expected, ExtractionResult)
    chunks = [document_text(body) for body in model.requests]
    assert len(chunks) >= 3
    model.requests.clear()

    hang = True
    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        first = extraction(llm, store, results_seen=len(chunks) - 1)
        handler = first.run(documents=[INVOICE_TEXT], run_id="r")
        await first.reached
        await out_at_the_wire.wait()
        crashed = crash_image(database, tmp_path)
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
    answered = [document_text(body) for body in model.requests]
    assert sorted(answered) == sorted(text for text in chunks if HANGING not in text)
    model.requests.clear()

    hang = False
    async with SqliteStore(crashed) as store:
        result = await (await extraction(llm, store).resume("r"))
    # Only the chunk whose request had no answer was asked again.
    assert [document_text(body) for body in model.requests] == [
        text for text in chunks if HANGING in text
    ]
    assert result.model_dump() == expected.model_dump()
    assert result.data == INVOICE


async def test_a_reply_that_failed_the_schema_before_the_crash_is_not_asked_for_again(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    """The first reply fails the schema and the re-ask is out at the wire at the crash:
    the resumed run sends only the re-ask (with the failed reply and its errors)."""
    text = "Vendor: Acme Tools GmbH\nOrder total: 99.00 EUR\n"

    def bad_first(chunk_text: str, body: dict[str, Any]) -> str | None:
        if len(model.requests) > 1:
            return None
        return json.dumps({"vendor": None, "total": {"value": "ninety-nine", "quote": "99.00"}})

    model = ExtractionModel(
        [Fact("vendor", "Acme Tools GmbH", "Acme Tools GmbH"), Fact("total", 99.0, "99.00 EUR")],
        override=bad_first,
    )
    hang = True
    reasked = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        if hang and len(json.loads(request.content)["messages"]) > 2:
            reasked.set()
            await asyncio.Event().wait()
        return model(request)

    api.post("/chat/completions").mock(side_effect=answer)

    def extraction(store: SqliteStore) -> ExtractionWorkflow[Order]:
        return ExtractionWorkflow(llm=llm, schema=Order, max_retries=1, store=store, timeout=None)

    database = tmp_path / "runs.db"
    async with SqliteStore(database) as store:
        handler = extraction(store).run(documents=[text], run_id="r")
        await reasked.wait()
        crashed = crash_image(database, tmp_path)
        handler.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handler
    assert len(model.requests) == 1

    hang = False
    async with SqliteStore(crashed) as store:
        result = await (await extraction(store).resume("r"))
    assert result.data == Order(vendor="Acme Tools GmbH", total=99.0)
    assert len(model.requests) == 2  # the first attempt was not sent again
    reask = model.requests[1]["messages"]
    assert "ninety-nine" in reask[-2]["content"]
    assert "total.value" in reask[-1]["content"]
    assert result.usage.total_tokens == 2 * 17  # both attempts booked, once each
