"""The extraction reply schema against a decoder that takes every free `null` (issue 13): each
field's object is always there and only its value may be null, so a small model under a
JSON grammar cannot skip a field with one token, and a reply that does answer `null` for a
field (a server without a grammar) still reads as "not stated"."""

from __future__ import annotations

from datetime import date

import pytest
import respx
from documents_wire import ExtractionModel
from invoice_fixtures import INVOICE, INVOICE_FACTS, INVOICE_TEXT, Invoice
from lazy_decoder import LazyDecoder, null_branches
from pydantic import BaseModel

from agents.documents import ExtractionResult, ExtractionWorkflow
from agents.documents.fields import field_specs, response_model
from agents.llm.openai.client import OpenAI
from agents.llm.openai.strict_schema import strict_json_schema


@pytest.mark.parametrize("chunk_tokens", [60, 2000])  # several chunks; the whole invoice in one
async def test_a_decoder_that_takes_every_free_null_still_fills_every_field(
    api: respx.MockRouter, llm: OpenAI, chunk_tokens: int
) -> None:
    model = ExtractionModel(INVOICE_FACTS)
    decoder = LazyDecoder(model)
    api.post("/chat/completions").mock(side_effect=decoder)
    workflow = ExtractionWorkflow(
        llm=llm, schema=Invoice, chunk_tokens=chunk_tokens, chunk_overlap=10
    )

    result = await workflow.run(documents=[{"text": INVOICE_TEXT, "name": "invoice.txt"}])

    assert isinstance(result, ExtractionResult)
    assert result.data == INVOICE
    for name in ("invoice_number", "vendor", "invoice_date", "total"):
        assert result.fields[name].verified, name
    assert decoder.rewritten == 0  # no reply had a field to skip
    assert result.fields["po_number"].status == "missing"


class Party(BaseModel):
    name: str
    city: str


class Contract(BaseModel):
    number: str
    signed: date | None = None
    seller: Party
    clauses: list[str]


def test_no_field_of_a_reply_can_be_skipped_with_null() -> None:
    specs = field_specs(Contract)
    schema = strict_json_schema(response_model(Contract, specs, list(specs)))

    # Each field's object is required; a model-typed value is the one place null stands in
    # for an object, inside the field's object (the value is nullable for every field).
    assert schema["required"] == ["number", "signed", "seller", "clauses"]
    assert null_branches(schema) == ["$.seller.value"]
    for name in ("number", "signed"):
        value = schema["properties"][name]["properties"]["value"]
        assert {"type": "null"} in value["anyOf"], name
    assert schema["properties"]["clauses"]["type"] == "array"


def test_a_reply_that_answers_null_for_a_field_reads_as_not_stated() -> None:
    specs = field_specs(Invoice)
    model = response_model(Invoice, specs, ["total", "po_number"])

    reply = model.model_validate({"total": None, "po_number": None})

    assert reply.model_dump() == {
        "total": {"value": None, "quote": "", "confidence": 0.0},
        "po_number": {"value": None, "quote": "", "confidence": 0.0},
    }


class Receipt(BaseModel):
    vendor: str | None = None
    total: float


async def test_a_server_without_a_grammar_answering_null_for_a_field_is_not_re_asked(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    def null_vendor(text: str, body: dict[str, object]) -> str:
        return '{"vendor": null, "total": {"value": 9.0, "quote": "Total: 9.00", "confidence": 1}}'

    model = ExtractionModel([], override=null_vendor)
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=Receipt).run(documents=["Total: 9.00"])

    assert len(model.requests) == 1
    assert result.data == Receipt(vendor=None, total=9.0)
    assert result.fields["vendor"].status == "missing"
