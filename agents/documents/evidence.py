"""Checking the LLM's quotes against its chunk, and the candidates a reply gives.

A quote is verified when it is found in the chunk the LLM read and states the value.
Found: first exactly, then after normalising both texts (whitespace runs as one space,
case folded, typographic quotes, dashes and non-breaking spaces as their plain forms),
since models often re-flow lines or straighten quotes while copying faithfully otherwise;
a found quote gets its span in the document's text and its page. States the value: the
value's words, numbers and dates are in the quote, in whatever form it writes them
(`agents.documents.support`). A quote that is not found may be invented ("not_found"); one
found that does not state the value ("found_not_supporting": "vendor: Northwind" quoted
from the address line) proves nothing about it. Either way the candidate's confidence is
multiplied by the workflow's `unverified_penalty`, so a verified value wins the merge over
an unverified one. A quote of fewer than `MIN_QUOTE_CHARS` characters (spaces aside)
counts as not found: "5" or "EU" is in almost any text, so finding it proves nothing.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel

from agents.documents.chunking import Chunk
from agents.documents.fields import FieldSpec
from agents.documents.result import Quote, QuoteStatus
from agents.documents.support import PLAIN_PUNCTUATION, unstated

MIN_QUOTE_CHARS = 3
"""Fewest characters, spaces aside, a quote needs to count as found."""


class Candidate(BaseModel):
    """One value one chunk gave for one field (one item, for a list field)."""

    field: str
    """The schema field."""
    value: Any
    """The value in JSON form."""
    quote: Quote
    """What the LLM quoted for it, and where (if anywhere) it was found."""
    confidence: float
    """The LLM's confidence, lowered when the quote was not verified."""
    file_index: int
    """The document's position among the inputs: earlier documents win ties."""
    position: int
    """Offset in the document: the quote's when found, else the chunk's start."""
    chunk: int
    """The chunk's index in its document."""
    order_in_reply: int = 0
    """The item's place in the reply's list (0 for a scalar): the order of items whose
    quotes were not found, which all stand at the chunk's start."""


def value_key(value: Any) -> str:
    """What two values must share to count as the same value."""
    return json.dumps(_normal_form(value), sort_keys=True, ensure_ascii=False)


def _normal_form(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    if isinstance(value, dict):
        return {key: _normal_form(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normal_form(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _normalised(text: str) -> tuple[str, list[int]]:
    """`text` normalised, and for each of its characters the offset it came from."""
    out: list[str] = []
    origin: list[int] = []
    in_space = False
    for offset, char in enumerate(text.translate(PLAIN_PUNCTUATION)):
        if char.isspace():
            if not in_space and out:
                out.append(" ")
                origin.append(offset)
            in_space = True
            continue
        in_space = False
        for folded in char.casefold():
            out.append(folded)
            origin.append(offset)
    if out and out[-1] == " ":
        out.pop()
        origin.pop()
    return "".join(out), origin


def locate_quote(
    quote: str, text: str, taken: Sequence[tuple[int, int]] = ()
) -> tuple[int, int] | None:
    """The span of `quote` in `text` (exact, else normalised), or None when it is absent
    or too short to prove anything.

    An occurrence that starts or ends inside a word is taken only when there is no other:
    "Total: 552.60" re-flowed by the model must point at that line, not into an earlier
    "Subtotal: 552.60". An occurrence overlapping a span in `taken` (the places earlier
    items of the same value were found at) is taken only when there is no other, so a
    line the text states twice, quoted twice, points at both places."""
    # Whitespace around a quote is not part of the passage: kept, a quote starting with
    # the line break before a page would be placed on the page before.
    quote = quote.strip()
    if len("".join(quote.split())) < MIN_QUOTE_CHARS:
        return None
    haystack, origin = _normalised(text)
    needle, _ = _normalised(quote)
    first: tuple[int, int] | None = None
    for whole_words in (True, False):
        exact = ((at, at + len(quote)) for at in _occurrences(text, quote, whole_words))
        normalised = (
            (origin[at], origin[at + len(needle) - 1] + 1)
            for at in _occurrences(haystack, needle, whole_words)
        )
        for span in itertools.chain(exact, normalised):
            if not any(span[0] < end and start < span[1] for start, end in taken):
                return span
            first = first or span
    return first


def _occurrences(text: str, part: str, whole_words: bool) -> Iterator[int]:
    """Where `part` occurs in `text`, in order (with `whole_words`, only occurrences that
    cut no word at either end)."""
    at = text.find(part)
    while at >= 0:
        if not (whole_words and _cuts_a_word(text, at, at + len(part))):
            yield at
        at = text.find(part, at + 1)


def _cuts_a_word(text: str, start: int, end: int) -> bool:
    inside = start > 0 and text[start - 1].isalnum() and text[start].isalnum()
    return inside or (end < len(text) and text[end - 1].isalnum() and text[end].isalnum())


def quote_in_chunk(
    quote: str, chunk: Chunk, taken: Sequence[tuple[int, int]] = (), *, value: Any
) -> Quote:
    """`quote` for `value` (in JSON form) checked against `chunk`: where it was found (its
    document span and page), and whether it states the value. `taken` are spans in the
    chunk's text to avoid when another occurrence exists."""
    span = locate_quote(quote, chunk.text, taken)
    if span is None:
        return Quote(text=quote, file=chunk.file, page=chunk.page, status="not_found")
    start, end = chunk.start + span[0], chunk.start + span[1]
    status: QuoteStatus = "found_not_supporting" if unstated(value, quote) else "verified"
    return Quote(
        text=quote, file=chunk.file, page=chunk.page_at(start), start=start, end=end, status=status
    )


def candidates_from_reply(
    reply: BaseModel,
    chunk: Chunk,
    specs: dict[str, FieldSpec],
    names: list[str],
    unverified_penalty: float,
) -> list[Candidate]:
    """Every value in one validated reply, its quote checked against `chunk`. List items
    of the same value point at different places when the chunk states the value more than
    once: each is placed past those before it."""
    data = reply.model_dump(mode="json")
    candidates: list[Candidate] = []
    for name in names:
        found = data.get(name)
        entries = found if specs[name].is_list else [found]
        taken: dict[str, list[tuple[int, int]]] = {}
        for order, entry in enumerate(entries or []):
            if entry is None or entry.get("value") is None:
                continue
            places = taken.setdefault(value_key(entry["value"]), [])
            quote = quote_in_chunk(entry["quote"], chunk, places, value=entry["value"])
            if quote.start is not None and quote.end is not None:
                places.append((quote.start - chunk.start, quote.end - chunk.start))
            confidence = float(entry["confidence"])
            if not quote.verified:
                confidence *= unverified_penalty
            candidates.append(
                Candidate(
                    field=name,
                    value=entry["value"],
                    quote=quote,
                    confidence=round(confidence, 4),
                    file_index=chunk.file_index,
                    position=chunk.start if quote.start is None else quote.start,
                    chunk=chunk.index,
                    order_in_reply=order,
                )
            )
    return candidates
