"""Batches: chunks are extracted concurrently but never more than `num_workers` at once;
texts and LlamaIndex Documents can be given instead of files; a docx is read (and a broken
one fails with its reason); importing the package loads neither llama_index nor openai."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest
import respx
from documents_wire import ExtractionModel, Fact
from invoice_fixtures import Order

from agents.documents import ExtractionWorkflow, FileFailed, NoReadableInputError
from agents.llm.openai.client import OpenAI


async def test_chunks_are_extracted_concurrently_up_to_num_workers(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ExtractionModel([Fact("vendor", "Acme", "Vendor: Acme"), Fact("total", 5.0, "5.00")])
    in_flight = 0
    most = 0
    all_in = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        if in_flight == 3:
            all_in.set()
        await all_in.wait()  # the first three calls wait for each other: they overlap
        in_flight -= 1
        return model(request)

    api.post("/chat/completions").mock(side_effect=answer)
    texts = [f"Note {n}\nVendor: Acme\nTotal: 5.00 for item {n}\n" for n in range(8)]

    workflow = ExtractionWorkflow(llm=llm, schema=Order, num_workers=3)
    result = await workflow.run(documents=texts)

    assert len(model.requests) == 8
    assert most == 3
    assert result.data == Order(vendor="Acme", total=5.0)
    assert len(result.fields["vendor"].quotes) == 8
    assert [report.file for report in result.files] == [f"document {n}" for n in range(1, 9)]


async def test_llama_index_documents_keep_their_pages(api: respx.MockRouter, llm: OpenAI) -> None:
    from llama_index.core.schema import Document

    api.post("/chat/completions").mock(
        side_effect=ExtractionModel(
            [Fact("vendor", "Acme", "Vendor: Acme"), Fact("total", 7.5, "Total: 7.50")]
        )
    )
    pages = [
        Document(text="Vendor: Acme", metadata={"file_name": "scan.pdf", "page_label": "1"}),
        Document(text="Total: 7.50", metadata={"file_name": "scan.pdf", "page_label": "2"}),
    ]

    result = await ExtractionWorkflow(llm=llm, schema=Order).run(documents=pages)

    assert result.data == Order(vendor="Acme", total=7.5)
    quote = result.fields["total"].quotes[0]
    assert (quote.file, quote.page, quote.start) == ("scan.pdf", 2, len("Vendor: Acme\n\n"))
    assert result.files[0].pages == 2


async def test_sections_of_one_file_are_one_document_that_spans_index(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    from llama_index.core.schema import Document

    api.post("/chat/completions").mock(
        side_effect=ExtractionModel(
            [Fact("vendor", "Acme", "Vendor: Acme"), Fact("total", 7.5, "Total: 7.50")]
        )
    )
    sections = [  # a Markdown reader's sections: one file, no page labels
        Document(text="# Order\nVendor: Acme", metadata={"file_name": "order.md"}),
        Document(text="## Sum\nTotal: 7.50", metadata={"file_name": "order.md"}),
    ]

    result = await ExtractionWorkflow(llm=llm, schema=Order).run(documents=sections)

    text = "# Order\nVendor: Acme\n\n## Sum\nTotal: 7.50"
    assert [(report.file, report.status) for report in result.files] == [("order.md", "ok")]
    quote = result.fields["total"].quotes[0]
    assert (quote.file, quote.page) == ("order.md", None)
    assert text[quote.start : quote.end] == "Total: 7.50"


WORD_NAMESPACE = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def write_docx(path: Path, paragraphs: list[str]) -> None:
    """The parts of a .docx a text reader looks at: the content types and the body."""
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "word/document.xml",
            f'<w:document xmlns:w="{WORD_NAMESPACE}"><w:body>{body}</w:body></w:document>',
        )


async def test_a_docx_is_read_and_its_quotes_verified(
    api: respx.MockRouter, llm: OpenAI, tmp_path: Path
) -> None:
    document = tmp_path / "letter.docx"
    write_docx(document, ["Dear customer,", "Vendor: Acme", "Total: 7.50"])
    model = ExtractionModel(
        [Fact("vendor", "Acme", "Vendor: Acme"), Fact("total", 7.5, "Total: 7.50")]
    )
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=Order).run(files=[document])

    assert result.data == Order(vendor="Acme", total=7.5)
    assert result.fields["total"].verified
    assert (result.files[0].file, result.files[0].status) == (str(document), "ok")
    assert "Vendor: Acme" in json.dumps(model.requests[0])


async def test_a_broken_docx_fails_with_its_reason(llm: OpenAI, tmp_path: Path) -> None:
    document = tmp_path / "letter.docx"
    document.write_bytes(b"PK\x03\x04 not really a zip archive")

    handler = ExtractionWorkflow(llm=llm, schema=Order).run(files=[document])
    failed = [ev async for ev in handler.stream_events() if isinstance(ev, FileFailed)]
    with pytest.raises(NoReadableInputError, match=r"could be read: .*letter\.docx: "):
        await handler

    (only,) = failed
    assert only.file.endswith("letter.docx")
    assert only.reason


def test_importing_the_package_loads_neither_llama_index_nor_openai() -> None:
    code = (
        "import sys, json, agents.documents; "
        "print(json.dumps([m for m in ('llama_index', 'openai', 'tiktoken') if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == []
