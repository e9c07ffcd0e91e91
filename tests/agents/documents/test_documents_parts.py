"""The pipeline's parts on their own: chunk spans, quote location, the merge rules, the
per-call response model, and texts given as documents."""

from __future__ import annotations

import itertools
import random
import re

import pytest
from invoice_fixtures import INVOICE_TEXT, Invoice
from llm_wire import BASE_URL
from pydantic import ValidationError

from agents.documents import (
    Candidate,
    Quote,
    SourceDocument,
    TextSource,
    chunk_document,
    chunk_spans,
    field_specs,
    locate_quote,
    merge_candidates,
    response_model,
)
from agents.documents.chunking import Chunk
from agents.documents.evidence import candidates_from_reply, quote_in_chunk
from agents.documents.loading import documents_from_texts, html_to_text
from agents.llm import ChatMessage, ScriptedLLM
from agents.llm.openai.client import OpenAI
from agents.llm.openai.tokens import count_text

GPT = OpenAI("gpt-4o-mini", api_key="k", base_url=BASE_URL)
"""Chunks are sized by the LLM that reads them: this one counts with tiktoken."""


def test_chunks_stay_in_budget_overlap_and_never_cut_a_word() -> None:
    spans = chunk_spans(INVOICE_TEXT, 40, 8, GPT)

    assert len(spans) >= 4
    words = {m.span() for m in re.finditer(r"\S+", INVOICE_TEXT)}
    starts, ends = {s for s, _ in words}, {e for _, e in words}
    for (start, end), (next_start, _) in itertools.pairwise(spans):
        assert start in starts
        assert end in ends
        assert next_start < end  # the next chunk repeats the end of this one
        assert next_start > start
    assert all(count_text(INVOICE_TEXT[s:e], "gpt-4o-mini") <= 40 for s, e in spans)
    assert spans[-1][1] == len(INVOICE_TEXT.rstrip())
    # Cut at a line break or paragraph break when one is near the end.
    assert sum(INVOICE_TEXT[end : end + 1] == "\n" for _, end in spans[:-1]) >= len(spans) // 2


class CountsCharacters(ScriptedLLM):
    """A model whose every character is a token: no tokenizer counts like it."""

    def count_reply_tokens(self, message: ChatMessage) -> int:
        return len(message.text)


def test_chunks_are_sized_by_the_llm_that_reads_them() -> None:
    llm = CountsCharacters([])

    spans = chunk_spans(INVOICE_TEXT, 40, 0, llm)

    assert all(end - start <= 40 for start, end in spans)
    # tiktoken holds about four characters a token: 40 of its tokens would be 160 or so.
    assert len(spans) > len(chunk_spans(INVOICE_TEXT, 40, 0, GPT)) * 2


def test_chunks_with_runs_of_spaces_stay_in_budget() -> None:
    # PDF text lays columns out with runs of spaces, which tokenize differently inside a
    # chunk than at the end of a word counted on its own.
    rows = ["it's   552.60\tVAT  units", '20%:  40\tdon\'t  "quoted"', "Total\tit's\tVAT   552.60"]
    text = "\n".join(f"{row}  {i}" for i in range(30) for row in rows)

    spans = chunk_spans(text, 12, 2, GPT)

    assert len(spans) > 10
    counts = [count_text(text[s:e], "gpt-4o-mini") for s, e in spans]
    assert max(counts) <= 12, counts
    assert spans[-1][1] == len(text)


@pytest.mark.parametrize(("chunk_tokens", "chunk_overlap"), [(20, 5), (10, 8), (5, 4)])
def test_every_chunk_brings_words_the_one_before_did_not_hold(
    chunk_tokens: int, chunk_overlap: int
) -> None:
    # A word over the budget (a hash, a base64 blob) leaves the overlap no room before it.
    text = "Total due: 552.60 Steel " + "x" * 300 + " brackets it's"

    spans = chunk_spans(text, chunk_tokens, chunk_overlap, GPT)

    assert all(end < next_end for (_, end), (_, next_end) in itertools.pairwise(spans))
    assert ("x" * 300) in [text[start:end] for start, end in spans]
    assert spans[-1][1] == len(text)


def test_chunks_know_their_pages_across_page_breaks() -> None:
    document = SourceDocument(
        name="a.pdf",
        pages=[{"number": 1, "text": "alpha beta"}, {"number": 2, "text": "gamma delta"}],
    )

    (whole,) = chunk_document(document, 0, 100, 0, GPT)
    assert (whole.page, whole.last_page, whole.pages) == (1, 2, 2)
    assert whole.text == "alpha beta\n\ngamma delta"
    assert whole.page_at(whole.text.index("gamma")) == 2
    assert chunk_spans("", 10, 0, GPT) == []
    with pytest.raises(ValueError, match="chunk_overlap"):
        chunk_spans("x", 10, 10, GPT)


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        ("Total due: 552.60", "Total due: 552.60"),
        ("total DUE:   552.60", "Total due: 552.60"),
        ("\u201cNet 30\u201d \u2013 payable", '"Net 30" - payable'),
        ("Subtotal:\n460.50", "Subtotal: 460.50"),
        ("Total due: 999.99", None),
        ("   ", None),
    ],
)
def test_quotes_are_found_exactly_or_after_normalising(quote: str, found: str | None) -> None:
    text = 'Terms: "Net 30" - payable in EUR.\nSubtotal: 460.50\nTotal due: 552.60'
    span = locate_quote(quote, text)
    assert (None if span is None else text[span[0] : span[1]]) == found


@pytest.mark.parametrize("quote", ["", "5", "60", " 5 ", "e:"])
def test_a_quote_of_fewer_than_three_characters_verifies_nothing(quote: str) -> None:
    assert locate_quote(quote, "Total due: 552.60 EUR") is None
    assert locate_quote("EUR", "Total due: 552.60 EUR") == (18, 21)


@pytest.mark.parametrize("quote", ["Total:\n552.60", "total: 552.60", "TOTAL: 552.60"])
def test_a_quote_points_at_the_occurrence_that_cuts_no_word(quote: str) -> None:
    text = "Subtotal: 552.60\nDiscount: 0.00\nTotal: 552.60"

    span = locate_quote(quote, text)

    assert span == (text.rindex("Total"), len(text))
    assert locate_quote("voice 7", "Invoice 7") == (2, 9)  # mid-word when nothing else


def test_a_quote_given_again_points_at_the_next_place_that_states_it() -> None:
    text = "Pallet of bolts \u2013 80.00\nBrackets \u2013 5.00\nPallet of bolts \u2013 80.00"
    first = (0, 23)
    second = (text.rindex("Pallet"), len(text))

    assert locate_quote("Pallet of bolts \u2013 80.00", text) == first
    assert locate_quote("pallet of bolts - 80.00", text, taken=[first]) == second
    # Listed more often than the text states it: the first place again.
    assert locate_quote("Pallet of bolts \u2013 80.00", text, taken=[first, second]) == first


def candidate(
    field: str,
    value: object,
    confidence: float,
    verified: bool,
    position: int,
    file_index: int = 0,
    chunk: int | None = None,
) -> Candidate:
    quote = Quote(
        text=str(value),
        file=f"f{file_index}",
        start=position if verified else None,
        end=position + 3 if verified else None,
        status="verified" if verified else "not_found",
    )
    return Candidate(
        field=field,
        value=value,
        quote=quote,
        confidence=confidence,
        file_index=file_index,
        position=position,
        chunk=position // 100 if chunk is None else chunk,
    )


def test_the_merge_is_deterministic_and_keeps_conflicts_as_alternatives() -> None:
    specs = field_specs(Invoice)
    found = [
        candidate("vendor", "Northwind", 0.7, True, 300),
        candidate("vendor", "NORTHWIND ", 0.9, True, 10),  # the same value, better quoted
        candidate("vendor", "Southwind", 0.99, False, 50),  # surer, but not found
        candidate("total", 10.0, 0.8, True, 500),
        candidate("total", 12.0, 0.8, True, 20, file_index=1),  # a tie: the earlier input wins
        candidate("line_items", {"description": "a", "amount": 1}, 0.9, True, 100),
        candidate("line_items", {"description": "b", "amount": 2}, 0.6, True, 200),
        # The overlap of the next chunk repeats the first item, at its place.
        candidate("line_items", {"description": "A", "amount": 1.0}, 0.5, True, 100, chunk=0),
    ]
    merged = merge_candidates(found, specs)
    for _ in range(5):
        random.shuffle(found)
        assert merge_candidates(found, specs) == merged

    vendor = merged["vendor"]
    assert (vendor.value, vendor.confidence, vendor.verified) == ("NORTHWIND ", 0.9, True)
    assert [quote.start for quote in vendor.quotes] == [10, 300]
    assert [alt.value for alt in vendor.alternatives] == ["Southwind"]
    assert merged["total"].value == 10.0
    assert [alt.value for alt in merged["total"].alternatives] == [12.0]
    items = merged["line_items"]
    assert items.value == [{"description": "a", "amount": 1}, {"description": "b", "amount": 2}]
    assert [len(item.quotes) for item in items.items] == [2, 1]  # A's quote and a's
    assert items.confidence == 0.6
    assert merged["po_number"].status == "missing"


def test_list_items_of_one_value_are_one_item_per_place() -> None:
    specs = field_specs(Invoice)
    bolts = {"description": "Pallet of bolts", "amount": 80.0}
    nails = {"description": "Nails", "amount": 5.0}
    found = [
        candidate("line_items", bolts, 0.9, True, 120, chunk=1),
        candidate("line_items", bolts, 0.8, True, 120, chunk=2),  # the overlap: same place
        candidate("line_items", bolts, 0.9, True, 260, chunk=2),  # the same line further on
        candidate("line_items", bolts, 0.7, True, 121, chunk=1),  # a span overlapping 120's
        candidate("line_items", nails, 0.9, False, 100, chunk=1),  # unverified: no place
        candidate("line_items", nails, 0.9, False, 200, chunk=2),  # so one per chunk
        candidate("line_items", nails, 0.6, False, 100, chunk=1),  # twice in one reply
    ]
    merged = merge_candidates(found, specs)
    for _ in range(5):
        random.shuffle(found)
        assert merge_candidates(found, specs) == merged

    items = merged["line_items"].items
    assert [item.value for item in items] == [nails, nails, bolts, bolts]
    assert [[quote.start for quote in item.quotes] for item in items] == [
        [None],
        [None],
        [120, 121],
        [260],
    ]


def test_list_items_of_one_value_in_copies_of_a_document_pair_up_in_document_order() -> None:
    specs = field_specs(Invoice)
    bolts = {"description": "Pallet of bolts", "amount": 80.0}
    nails = {"description": "Nails", "amount": 5.0}
    found = [
        # The text copy lists bolts twice and nails once...
        candidate("line_items", bolts, 0.9, True, 10, file_index=0),
        candidate("line_items", nails, 0.9, True, 40, file_index=0),
        candidate("line_items", bolts, 0.9, True, 70, file_index=0),
        # ...the HTML copy of the same invoice lists bolts once and nails twice.
        candidate("line_items", bolts, 0.8, True, 500, file_index=1),
        candidate("line_items", nails, 0.8, True, 600, file_index=1),
        candidate("line_items", nails, 0.8, True, 700, file_index=1),
    ]
    merged = merge_candidates(found, specs, files_are_copies=True)
    for _ in range(5):
        random.shuffle(found)
        assert merge_candidates(found, specs, files_are_copies=True) == merged
    # Parts of one record (the default): each file's lines are its own.
    as_parts = merge_candidates(found, specs)["line_items"].items
    assert [len(item.quotes) for item in as_parts] == [1] * 6

    items = merged["line_items"].items
    assert [item.value for item in items] == [bolts, nails, bolts, nails]
    assert [[(quote.file, quote.start) for quote in item.quotes] for item in items] == [
        [("f0", 10), ("f1", 500)],
        [("f0", 40), ("f1", 600)],
        [("f0", 70)],
        [("f1", 700)],
    ]


def test_items_whose_quotes_were_not_found_keep_the_replys_order() -> None:
    specs = field_specs(Invoice)
    text = "Invoice\nno lines here"
    chunk = Chunk(file="f", file_index=0, index=0, count=1, start=0, end=len(text), text=text)
    lines = [("Steel brackets", 320.0), ("Hex bolts", 95.5), ("Delivery", 45.0)]
    reply = response_model(Invoice, specs, ["line_items"]).model_validate(
        {
            "line_items": [
                {
                    "value": {"description": description, "amount": amount},
                    "quote": f"Description: {description}",
                    "confidence": 0.9,
                }
                for description, amount in lines
            ]
        }
    )
    found = candidates_from_reply(reply, chunk, specs, ["line_items"], unverified_penalty=0.5)
    random.shuffle(found)

    items = merge_candidates(found, specs)["line_items"].value
    assert [(item["description"], item["amount"]) for item in items] == lines


def test_the_response_model_asks_for_value_quote_and_confidence_per_field() -> None:
    specs = field_specs(Invoice)
    model = response_model(Invoice, specs, ["total", "line_items"])

    reply = model.model_validate(
        {
            "total": {"value": "552.60", "quote": "Total due: 552.60", "confidence": 0.9},
            "line_items": [
                {"value": {"description": "x", "amount": 1}, "quote": "x 1", "confidence": 1}
            ],
        }
    )
    assert reply.model_dump()["total"]["value"] == 552.6
    assert model.model_validate({"total": None, "line_items": []})
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        model.model_validate(
            {"total": {"value": 1, "quote": "", "confidence": 3}, "line_items": []}
        )
    assert specs["line_items"].is_list
    assert not specs["total"].is_list
    assert specs["invoice_number"].description == "The invoice's number, as printed"


def test_a_quote_with_a_line_break_before_it_is_on_the_page_it_quotes() -> None:
    document = SourceDocument(
        name="a.pdf",
        pages=[{"number": 1, "text": "Items: 3"}, {"number": 2, "text": "Total due: 552.60"}],
    )
    (whole,) = chunk_document(document, 0, 100, 0, GPT)

    quote = quote_in_chunk("\nTotal due: 552.60", whole, value=552.6)

    assert (quote.verified, quote.page) == (True, 2)
    assert document.text[quote.start : quote.end] == "Total due: 552.60"


def test_given_texts_are_grouped_into_documents_by_file_name() -> None:
    pages = [
        TextSource(text="one", metadata={"file_name": "a.pdf", "page_label": "i"}),
        TextSource(text="two", metadata={"file_name": "a.pdf", "page_label": "ii"}),
        TextSource(text="plain"),
        TextSource(text="other", name="notes"),
    ]
    documents = documents_from_texts(pages)

    assert [d.name for d in documents] == ["a.pdf", "document 1", "notes"]
    assert [(p.number, p.label) for p in documents[0].pages] == [(1, "i"), (2, "ii")]
    assert documents[1].pages[0].number is None


def test_html_text_leaves_out_scripts_styles_and_the_head() -> None:
    markup = (
        "<html><head><title>t</title><style>p{}</style></head><body><p>A&amp;B</p>"
        "<ul><li>one</li><li>two <i>2</i></li></ul><script>no()</script></body></html>"
    )
    assert html_to_text(markup) == "A&B\none\ntwo 2"
