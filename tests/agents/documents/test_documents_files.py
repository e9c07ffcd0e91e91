"""ExtractionWorkflow on files the tests write: a multi-page PDF keeps its page numbers, an
HTML page is read as its visible text, and a batch with unreadable files goes on without
them, reporting each with its reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import respx
from documents_wire import ExtractionModel, Fact, document_text
from invoice_fixtures import Invoice, Order, write_invoice
from pdf_writer import write_pdf
from pydantic import BaseModel

from agents.documents import (
    ExtractionWorkflow,
    FileFailed,
    FileProgress,
    NoReadableInputError,
)
from agents.llm.openai.client import OpenAI

PDF_PAGES = [
    "INVOICE\nInvoice number: INV-3300\nIssued by: Fabrikam Audio\nDate: 2024-06-30",
    "Line items\nStudio monitors ........ 800.00\nCables .................. 40.00",
    "Subtotal: 840.00\nTotal due: 1,008.00\nThank you for your business.",
]

PDF_FACTS = [
    Fact("invoice_number", "INV-3300", "Invoice number: INV-3300"),
    Fact("vendor", "Fabrikam Audio", "Issued by: Fabrikam Audio"),
    Fact("invoice_date", "2024-06-30", "Date: 2024-06-30"),
    Fact(
        "line_items",
        {"description": "Studio monitors", "amount": 800.0},
        "Studio monitors ........ 800.00",
    ),
    Fact(
        "line_items", {"description": "Cables", "amount": 40.0}, "Cables .................. 40.00"
    ),
    Fact("total", 1008.0, "Total due: 1,008.00"),
]

HTML = """<!doctype html>
<html><head><title>Receipt</title><style>body { color: red }</style></head>
<body>
  <h1>Receipt R-88</h1>
  <p>Sold by <b>Tailspin Toys</b> &amp; partners</p>
  <table><tr><td>Order total</td><td>42.50</td></tr></table>
  <script>trackVisitor("Vendor: Evil Corp")</script>
</body></html>
"""


async def test_a_multi_page_pdf_keeps_its_page_numbers(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    pdf = write_pdf(tmp_path / "invoice.pdf", PDF_PAGES)
    model = ExtractionModel(PDF_FACTS)
    api.post("/chat/completions").mock(side_effect=model)

    workflow = ExtractionWorkflow(llm=llm, schema=Invoice, chunk_tokens=40, chunk_overlap=0)
    result = await workflow.run(files=[pdf])

    assert result.data.invoice_number == "INV-3300"
    assert result.data.total == 1008.0
    assert [item.description for item in result.data.line_items] == ["Studio monitors", "Cables"]
    pages = {
        name: evidence.quotes[0].page for name, evidence in result.fields.items() if evidence.quotes
    }
    assert pages == {
        "invoice_number": 1,
        "vendor": 1,
        "invoice_date": 1,
        "line_items": 2,
        "total": 3,
    }
    assert [quote.page for quote in result.fields["line_items"].quotes] == [2, 2]
    (report,) = result.files
    assert (report.status, report.pages) == ("ok", 3)
    assert report.chunks == len(model.requests) >= 3
    assert any(
        "pages" in body["messages"][1]["content"] or "page 2" in body["messages"][1]["content"]
        for body in model.requests
    )


async def test_an_html_page_is_read_as_its_visible_text(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    page = tmp_path / "receipt.html"
    page.write_text(HTML, encoding="utf-8")
    model = ExtractionModel(
        [
            Fact("vendor", "Tailspin Toys", "Sold by Tailspin Toys"),
            Fact("vendor", "Evil Corp", "Vendor: Evil Corp"),  # only in the script
            Fact("total", 42.5, "Order total 42.50"),
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=Order).run(files=[page])

    (body,) = model.requests
    text = document_text(body)
    assert text == "Receipt R-88\nSold by Tailspin Toys & partners\nOrder total 42.50"
    assert result.data == Order(vendor="Tailspin Toys", total=42.5)
    assert result.fields["vendor"].alternatives == []
    quote = result.fields["total"].quotes[0]
    assert (quote.verified, quote.page) == (True, None)


async def test_a_batch_goes_on_past_unreadable_files(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    broken = tmp_path / "scan.pdf"
    broken.write_bytes(b"%PDF-1.4\n\x00\x13 this is not a PDF body")
    unsupported = tmp_path / "photo.heic"
    unsupported.write_bytes(b"\x00\x01")
    empty = tmp_path / "empty.md"
    empty.write_text("   \n", encoding="utf-8")
    good_pdf = write_pdf(tmp_path / "invoice.pdf", PDF_PAGES)
    files = [
        broken,
        write_invoice(tmp_path),
        unsupported,
        tmp_path / "missing.txt",
        empty,
        good_pdf,
    ]
    api.post("/chat/completions").mock(
        side_effect=ExtractionModel(
            [
                *PDF_FACTS,
                Fact("po_number", "PO-17", "Purchase order PO-17", anchor="Contoso"),
            ]
        )
    )

    workflow = ExtractionWorkflow(llm=llm, schema=Invoice, num_workers=3)
    handler = workflow.run(files=files)
    failed: dict[str, str] = {}
    done: list[str] = []
    async for ev in handler.stream_events():
        if isinstance(ev, FileFailed):
            failed[Path(ev.file).name] = ev.reason
        elif isinstance(ev, FileProgress) and ev.stage == "done":
            done.append(Path(ev.file).name)
    result = await handler

    assert sorted(done) == ["invoice.pdf", "invoice.txt"]
    assert set(failed) == {"scan.pdf", "photo.heic", "missing.txt", "empty.md"}
    assert failed["scan.pdf"].startswith("Pdf")  # pypdf's own error, unwrapped
    assert failed["photo.heic"].startswith("unsupported file type '.heic'")
    assert failed["missing.txt"] == "no such file"
    assert failed["empty.md"] == "no text could be read"
    assert [(Path(r.file).name, r.status) for r in result.files] == [
        ("scan.pdf", "failed"),
        ("invoice.txt", "ok"),
        ("photo.heic", "failed"),
        ("missing.txt", "failed"),
        ("empty.md", "failed"),
        ("invoice.pdf", "ok"),
    ]
    assert result.data.invoice_number == "INV-3300"  # from the PDF
    assert result.data.po_number == "PO-17"  # from the text invoice
    assert sum("was not read" in warning for warning in result.warnings) == 4


class Note(BaseModel):
    vendor: str | None = None


async def test_a_run_where_no_file_can_be_read_fails_naming_each(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    unsupported = tmp_path / "photo.heic"
    unsupported.write_bytes(b"\x00\x01")
    workflow = ExtractionWorkflow(llm=llm, schema=Note, review="always")

    handler = workflow.run(files=[tmp_path / "missing.txt", unsupported], documents=[" "])
    failed = [ev.file async for ev in handler.stream_events() if isinstance(ev, FileFailed)]
    with pytest.raises(NoReadableInputError) as caught:
        await handler

    assert sorted(failed) == sorted([str(tmp_path / "missing.txt"), str(unsupported), "document 1"])
    assert str(caught.value).startswith("none of the 3 inputs could be read: ")
    assert caught.value.failed_files == {
        str(tmp_path / "missing.txt"): "no such file",
        str(unsupported): "unsupported file type '.heic'; supported: "
        ".txt, .md, .markdown, .html, .htm, .pdf, .docx",
        "document 1": "no text to extract",
    }


ABANDONS_A_READ = """
import asyncio, sys, threading
from pydantic import BaseModel
from agentflow.errors import WorkflowCancelledByUser
from agents.documents import ExtractionWorkflow
from agents.llm import ScriptedLLM

never = threading.Event()

class Invoice(BaseModel):
    total: float

class StuckReader(ExtractionWorkflow):
    def read_file(self, path):  # a reader that never returns: OCR of a huge scan, say
        self.reading()
        never.wait()

async def main():
    loop = asyncio.get_running_loop()
    reading = loop.create_future()
    workflow = StuckReader(llm=ScriptedLLM([]), schema=Invoice, timeout=None)
    workflow.reading = lambda: loop.call_soon_threadsafe(reading.set_result, None)
    handler = workflow.run(files=[sys.argv[1]])
    await reading
    await handler.cancel_run()
    try:
        await handler
    except WorkflowCancelledByUser:
        pass

asyncio.run(main())
print("asyncio.run returned; read still blocked:", not never.is_set(), flush=True)
"""


def test_a_read_given_up_by_a_cancelled_run_holds_up_neither_the_loop_nor_the_process(
    tmp_path: Path,
) -> None:
    # Before, files were read on the loop's default executor, whose threads asyncio.run()
    # waits for: a read left running by a cancelled run kept the process alive.
    invoice = tmp_path / "invoice.txt"
    invoice.write_text("Total due: 120.50", encoding="utf-8")
    try:
        finished = subprocess.run(
            [sys.executable, "-c", ABANDONS_A_READ, str(invoice)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"the process did not end while the abandoned read blocked: {expired}")
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "asyncio.run returned; read still blocked: True\n"
