"""ExtractionWorkflow end to end over the OpenAI wire (respx): a text invoice cut into
several chunks, fields found in different chunks merged with their evidence, a fabricated
quote marked unverified, a reply that fails the schema re-asked with the error."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from documents_wire import ExtractionModel, Fact, document_text
from invoice_fixtures import (
    INVOICE,
    INVOICE_FACTS,
    INVOICE_TEXT,
    REPEATED_LINES_TEXT,
    Invoice,
    Order,
    write_invoice,
)
from pydantic import BaseModel, Field

from agentflow import Context, step
from agents.documents import (
    ChunkExtractionError,
    ChunkFailed,
    DraftReady,
    ExtractionResult,
    ExtractionWorkflow,
    FileProgress,
    IncompleteExtractionError,
    MergeRequest,
    extract_each,
)
from agents.documents.merge import draft_data
from agents.llm.openai.client import OpenAI


async def test_fields_from_different_chunks_are_merged_with_their_evidence(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    model = ExtractionModel(INVOICE_FACTS)
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ExtractionWorkflow(
        llm=llm, schema=Invoice, chunk_tokens=60, chunk_overlap=10, num_workers=2
    )

    handler = workflow.run(files=[write_invoice(tmp_path)])
    progress = [ev async for ev in handler.stream_events() if isinstance(ev, FileProgress)]
    result = await handler

    assert isinstance(result, ExtractionResult)
    chunks = [document_text(body) for body in model.requests]
    assert len(chunks) >= 3
    header = next(i for i, text in enumerate(chunks) if "INV-2041" in text)
    footer = next(i for i, text in enumerate(chunks) if "Total due" in text)
    assert header != footer  # the number and the total came from different chunks
    assert result.data == INVOICE
    total = result.fields["total"]
    assert total.status == "found"
    assert total.verified
    (quote,) = total.quotes
    assert INVOICE_TEXT[quote.start : quote.end] == "Total due: 552.60"
    assert quote.file.endswith("invoice.txt")
    assert quote.page is None  # a text file has no pages
    assert result.fields["po_number"].status == "missing"
    assert "po_number: not found in any document" in result.warnings
    assert result.files[0].status == "ok"
    assert result.files[0].chunks == len(chunks)
    assert result.usage.total_tokens == 17 * len(chunks)  # llm_wire's usage per reply
    stages = [ev.stage for ev in progress]
    assert stages[:2] == ["loaded", "chunked"]
    assert stages[-1] == "done"
    assert progress[-1].chunks_done == progress[-1].chunks_total == len(chunks)
    # Every chunk is a word-bounded slice of the file, each overlapping the one before.
    positions = [INVOICE_TEXT.find(text) for text in chunks]
    assert all(position >= 0 for position in positions)
    assert json.loads(result.to_json())["data"]["invoice_date"] == "2024-03-15"
    # Each call asks for every field as {value, quote, confidence} with a strict schema.
    response_format = model.requests[0]["response_format"]["json_schema"]
    assert (response_format["name"], response_format["strict"]) == ("InvoiceExtraction", True)
    schema = response_format["schema"]
    assert schema["required"] == list(Invoice.model_fields)
    assert schema["properties"]["line_items"]["type"] == "array"


@pytest.mark.parametrize("chunk_tokens", [40, 2000])  # each line in two chunks; all in one
async def test_the_same_line_at_two_places_is_two_items_and_overlaps_merge_once(
    api: respx.MockRouter, llm: OpenAI, chunk_tokens: int
) -> None:
    lines = {
        "Pallet of bolts \u2013 80.00": ("Pallet of bolts", 80.0),
        "Steel brackets \u2013 120.00": ("Steel brackets", 120.0),
        "Delivery to site \u2013 20.00": ("Delivery to site", 20.0),
    }
    model = ExtractionModel(
        [
            Fact("line_items", {"description": name, "amount": amount}, quote, 0.9)
            for quote, (name, amount) in lines.items()
        ]
        + [
            Fact("invoice_number", "INV-3107", "Invoice number: INV-3107"),
            Fact("vendor", "Northwind Supplies Ltd.", "Issued by: Northwind Supplies Ltd."),
            Fact("invoice_date", "2024-05-02", "Date: 2024-05-02"),
            Fact("total", 300.0, "Total due: 300.00"),
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ExtractionWorkflow(
        llm=llm, schema=Invoice, chunk_tokens=chunk_tokens, chunk_overlap=15
    )

    result = await workflow.run(documents=[{"text": REPEATED_LINES_TEXT, "name": "inv.txt"}])

    chunks = [document_text(body) for body in model.requests]
    if chunk_tokens == 40:  # each pallet line is read in two chunks (the overlap)
        assert sum("Pallet of bolts" in chunk for chunk in chunks) == 4
    else:  # one chunk, whose reply lists the pallet twice
        assert len(chunks) == 1
    assert [(item.description, item.amount) for item in result.data.line_items] == [
        ("Pallet of bolts", 80.0),
        ("Steel brackets", 120.0),
        ("Pallet of bolts", 80.0),
        ("Delivery to site", 20.0),
    ]
    assert sum(item.amount for item in result.data.line_items) == result.data.total
    pallets = [item for item in result.fields["line_items"].items if item.value["amount"] == 80.0]
    starts = [[quote.start for quote in item.quotes] for item in pallets]
    first_line = REPEATED_LINES_TEXT.index("Pallet of bolts")
    second_line = REPEATED_LINES_TEXT.index("Pallet of bolts", first_line + 1)
    assert starts == [[first_line], [second_line]]


async def test_a_fabricated_quote_is_marked_unverified_and_loses_to_a_verified_one(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    confirmation = "Order confirmation\nVendor: Acme  Tools\nGmbH\nOrder total: 99.00 EUR\n"
    delivery = "Delivery note\nShipped by Acme from Hamburg.\n"
    model = ExtractionModel(
        [
            # Re-flowed and upper-cased: found in the text once whitespace and case are
            # normalised.
            Fact("vendor", "Acme Tools GmbH", "VENDOR: ACME TOOLS GMBH", 0.8, "Vendor: Acme"),
            # Invented: nothing like it is in the delivery note, though the model is sure.
            Fact("vendor", "Acme Holdings", "Supplier: Acme Holdings Inc.", 0.99, "Shipped"),
            Fact("total", 99.0, "Order total: 99.00 EUR", 0.9),
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=Order).run(
        documents=[
            {"text": confirmation, "metadata": {"file_name": "confirmation.txt"}},
            {"text": delivery, "metadata": {"file_name": "delivery.txt"}},
        ]
    )

    vendor = result.fields["vendor"]
    assert result.data.vendor == "Acme Tools GmbH"
    assert vendor.verified
    (quote,) = vendor.quotes
    assert quote.file == "confirmation.txt"
    assert confirmation[quote.start : quote.end] == "Vendor: Acme  Tools\nGmbH"
    (invented,) = vendor.alternatives
    assert invented.value == "Acme Holdings"
    assert not invented.verified
    assert invented.quotes[0].file == "delivery.txt"
    assert invented.quotes[0].start is None
    assert invented.confidence == pytest.approx(0.99 * 0.5)
    assert "vendor: conflicting values also found: 'Acme Holdings'" in result.warnings
    assert [report.file for report in result.files] == ["confirmation.txt", "delivery.txt"]


async def test_a_reply_that_fails_the_schema_is_sent_back_with_the_error(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    text = "Vendor: Acme Tools GmbH\nOrder total: 99.00 EUR\n"
    sent_bad = []

    def bad_first(chunk_text: str, body: dict[str, object]) -> str | None:
        if sent_bad:
            return None
        sent_bad.append(True)
        return json.dumps(
            {"vendor": None, "total": {"value": "ninety-nine", "quote": "99.00", "confidence": 2}}
        )

    model = ExtractionModel(
        [Fact("vendor", "Acme Tools GmbH", "Acme Tools GmbH"), Fact("total", 99.0, "99.00 EUR")],
        override=bad_first,
    )
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=Order, max_retries=1).run(documents=[text])

    assert result.data.total == 99.0
    assert len(model.requests) == 2
    retry = model.requests[1]["messages"]
    assert retry[-2]["role"] == "assistant"
    assert "ninety-nine" in retry[-2]["content"]
    assert "total.value" in retry[-1]["content"]
    assert "total.confidence" in retry[-1]["content"]
    assert "less than or equal to 1" in retry[-1]["content"]


class UpperVendorExtraction(ExtractionWorkflow[Order]):
    """Replaces the `merge` step itself: the default merge, then the vendor upper-cased."""

    @step
    async def merge(self, ctx: Context[Any], ev: MergeRequest) -> DraftReady:
        draft = await super().merge(ctx, ev)
        vendor = draft.fields["vendor"]
        draft.fields["vendor"] = vendor.model_copy(update={"value": vendor.value.upper()})
        return DraftReady(data=draft_data(draft.fields), fields=draft.fields)


async def test_a_subclass_replaces_the_merge_step(api: respx.MockRouter, llm: OpenAI) -> None:
    api.post("/chat/completions").mock(
        side_effect=ExtractionModel(
            [Fact("vendor", "Acme Tools", "Vendor: Acme Tools"), Fact("total", 9.0, "9.00")]
        )
    )

    result = await UpperVendorExtraction(llm=llm, schema=Order).run(
        documents=["Vendor: Acme Tools\nTotal: 9.00"]
    )

    assert result.data == Order(vendor="ACME TOOLS", total=9.0)
    assert result.fields["vendor"].quotes[0].text == "Vendor: Acme Tools"


async def test_a_chunk_that_never_fits_the_schema_is_a_warning_not_a_failure(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    def garbled(text: str, body: dict[str, Any]) -> str | None:
        return "I think the vendor is Acme." if "Remarks" in text else None

    model = ExtractionModel(
        [Fact("vendor", "Acme", "Vendor: Acme"), Fact("total", 9.0, "Total: 9.00")],
        override=garbled,
    )
    api.post("/chat/completions").mock(side_effect=model)
    handler = ExtractionWorkflow(llm=llm, schema=Order, max_retries=1).run(
        documents=["Vendor: Acme\nTotal: 9.00", "Remarks: call the vendor first"]
    )
    failures = [ev async for ev in handler.stream_events() if isinstance(ev, ChunkFailed)]
    result = await handler

    (failure,) = failures
    assert (failure.file, failure.chunk) == ("document 2", 0)
    assert "no valid OrderExtraction after 2 attempts" in failure.reason
    assert len(model.requests) == 3  # two attempts for the garbled chunk, one for the other
    assert result.data == Order(vendor="Acme", total=9.0)
    assert result.warnings[0].startswith("document 2, chunk 1: no valid OrderExtraction")
    assert [report.status for report in result.files] == ["ok", "ok"]


class AliasedOrder(BaseModel):
    vendor: str = Field(alias="VendorName")
    total: float = Field(alias="GrandTotal")


async def test_a_schema_with_aliases_is_filled_by_field_name(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ExtractionModel(
        [Fact("vendor", "Acme", "Vendor: Acme"), Fact("total", 9.0, "Total: 9.00")]
    )
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=AliasedOrder).run(
        documents=["Vendor: Acme\nTotal: 9.00"]
    )

    assert (result.data.vendor, result.data.total) == ("Acme", 9.0)
    assert model.asked_fields() == [["vendor", "total"]]


async def test_an_llm_error_ends_the_run_naming_the_chunk_with_no_task_left(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    error = {"error": {"message": "Incorrect API key", "type": "invalid_request_error"}}
    api.post("/chat/completions").mock(return_value=httpx.Response(401, json=error))
    workflow = ExtractionWorkflow(llm=llm, schema=Order, num_workers=2)

    with pytest.raises(ChunkExtractionError, match=r"^(a|b)\.txt, chunk 1 of 1: ") as caught:
        await workflow.run(
            documents=[
                {"text": "Vendor: Acme", "name": "a.txt"},
                {"text": "Total: 9", "name": "b.txt"},
            ]
        )

    assert "AuthenticationError" in str(caught.value)
    assert "Incorrect API key" in str(caught.value)
    assert (caught.value.file, caught.value.chunk) in {("a.txt", 0), ("b.txt", 0)}
    assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []


async def test_a_field_missing_where_a_chunk_failed_names_that_chunk(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    def garbled(text: str, body: dict[str, Any]) -> str | None:
        return "The total is 9.00." if "Total" in text else None

    model = ExtractionModel(
        [Fact("vendor", "Acme", "Vendor: Acme"), Fact("total", 9.0, "Total: 9.00")],
        override=garbled,
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ExtractionWorkflow(llm=llm, schema=Order, max_retries=0)

    with pytest.raises(IncompleteExtractionError) as caught:
        await workflow.run(documents=["Vendor: Acme", "Total: 9.00"])

    assert caught.value.problems == {"total": "not found in any document"}
    assert list(caught.value.failed_chunks) == ["document 2, chunk 1"]
    assert str(caught.value).endswith("(no valid reply for: document 2, chunk 1)")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"chunk_tokens": 0, "chunk_overlap": 0}, "chunk_tokens must be at least 1, got 0"),
        ({"chunk_tokens": 100, "chunk_overlap": 100}, r"below chunk_tokens \(100\), got 100"),
        ({"confidence_threshold": 70}, "confidence_threshold must be between 0 and 1, got 70"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(
    llm: OpenAI, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ExtractionWorkflow(llm=llm, schema=Order, **arguments)


async def test_run_takes_the_files_first(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    api.post("/chat/completions").mock(side_effect=ExtractionModel(INVOICE_FACTS))
    workflow = ExtractionWorkflow(llm=llm, schema=Invoice)

    result = await workflow.run([write_invoice(tmp_path)])
    again = await workflow.run(Context(workflow), files=[tmp_path / "invoice.txt"])

    assert result.data.invoice_number == again.data.invoice_number == "INV-2041"
    assert [report.file for report in result.files] == [str(tmp_path / "invoice.txt")]
    with pytest.raises(TypeError, match=r"use files=\['invoice.txt'\]"):
        workflow.run("invoice.txt")
    with pytest.raises(TypeError, match="files twice"):
        workflow.run(["a.txt"], files=["b.txt"])  # type: ignore[call-overload]


async def test_a_lone_path_or_text_is_refused_not_read_per_character(
    llm: OpenAI, tmp_path: Path
) -> None:
    workflow = ExtractionWorkflow(llm=llm, schema=Order)

    with pytest.raises(TypeError, match=r"use files=\['invoice.txt'\]"):
        workflow.run(files="invoice.txt")
    with pytest.raises(TypeError, match="files= takes a list of paths"):
        workflow.run(files=tmp_path / "invoice.txt")
    with pytest.raises(TypeError, match="documents= takes a list"):
        workflow.run(documents="Vendor: Acme")
    with pytest.raises(TypeError, match="take lists"):
        await extract_each(workflow, files="invoice.txt")


@pytest.mark.parametrize("files_are_copies", [True, False])
async def test_copies_of_one_invoice_give_its_lines_once_parts_of_one_record_each_theirs(
    api: respx.MockRouter, llm: OpenAI, files_are_copies: bool
) -> None:
    lines = {"Pallet of bolts \u2013 80.00": 80.0, "Steel brackets \u2013 120.00": 120.0}
    model = ExtractionModel(
        [
            Fact("line_items", {"description": quote.split(" \u2013")[0], "amount": amount}, quote)
            for quote, amount in lines.items()
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)
    text = "\n".join(lines)
    workflow = ExtractionWorkflow(llm=llm, schema=Invoice, files_are_copies=files_are_copies)

    handler = workflow.run(
        documents=[{"text": text, "name": "inv.txt"}, {"text": text, "name": "inv.html"}]
    )
    with pytest.raises(IncompleteExtractionError) as incomplete:  # no number, vendor, total
        await handler

    items = incomplete.value.partial["line_items"]
    amounts = [item["amount"] for item in items]
    assert amounts == ([80.0, 120.0] if files_are_copies else [80.0, 120.0, 80.0, 120.0])
