"""Checking the LLM's quotes against its chunk, and the candidates a reply gives.

A quote is verified when it is found in the chunk the LLM read: first exactly, then after
normalising both texts (whitespace runs as one space, case folded, typographic quotes,
dashes and non-breaking spaces as their plain forms), since models often re-flow lines or
straighten quotes while copying faithfully otherwise. A found quote gets its span in the
document's text and its page. A quote that is not found may be invented: it is marked
unverified and its confidence multiplied by the workflow's `unverified_penalty`, so a
verified value wins the merge over an unverified one. A quote of fewer than
`MIN_QUOTE_CHARS` characters (spaces aside) is never verified: "5" or "EU" is found in
almost any text, so finding it proves nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from agents.documents.chunking import Chunk
from agents.documents.fields import FieldSpec
from agents.documents.result import Quote

_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
    }
)

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
    """The LLM's confidence, lowered when the quote was not found."""
    file_index: int
    """The document's position among the inputs: earlier documents win ties."""
    position: int
    """Offset in the document: the quote's when found, else the chunk's start."""
    chunk: int
    """The chunk's index in its document."""


def _normalised(text: str) -> tuple[str, list[int]]:
    """`text` normalised, and for each of its characters the offset it came from."""
    out: list[str] = []
    origin: list[int] = []
    in_space = False
    for offset, char in enumerate(text.translate(_PLAIN)):
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


def locate_quote(quote: str, text: str) -> tuple[int, int] | None:
    """The span of `quote` in `text` (exact, else normalised), or None when it is absent
    or too short to prove anything.

    An occurrence that starts or ends inside a word is taken only when there is no other:
    "Total: 552.60" re-flowed by the model must point at that line, not into an earlier
    "Subtotal: 552.60"."""
    # Whitespace around a quote is not part of the passage: kept, a quote starting with
    # the line break before a page would be placed on the page before.
    quote = quote.strip()
    if len("".join(quote.split())) < MIN_QUOTE_CHARS:
        return None
    haystack, origin = _normalised(text)
    needle, _ = _normalised(quote)
    for whole_words in (True, False):
        start = _find(text, quote, whole_words)
        if start >= 0:
            return start, start + len(quote)
        found = _find(haystack, needle, whole_words)
        if found >= 0:
            return origin[found], origin[found + len(needle) - 1] + 1
    return None


def _find(text: str, part: str, whole_words: bool) -> int:
    """The first occurrence of `part` in `text` (with `whole_words`, the first that cuts
    no word at either end), or -1."""
    at = text.find(part)
    while whole_words and at >= 0 and _cuts_a_word(text, at, at + len(part)):
        at = text.find(part, at + 1)
    return at


def _cuts_a_word(text: str, start: int, end: int) -> bool:
    inside = start > 0 and text[start - 1].isalnum() and text[start].isalnum()
    return inside or (end < len(text) and text[end - 1].isalnum() and text[end].isalnum())


def quote_in_chunk(quote: str, chunk: Chunk) -> Quote:
    """`quote` checked against `chunk`: verified with its document span and page, or not."""
    span = locate_quote(quote, chunk.text)
    if span is None:
        return Quote(text=quote, file=chunk.file, page=chunk.page, verified=False)
    start, end = chunk.start + span[0], chunk.start + span[1]
    return Quote(
        text=quote, file=chunk.file, page=chunk.page_at(start), start=start, end=end, verified=True
    )


def candidates_from_reply(
    reply: BaseModel,
    chunk: Chunk,
    specs: dict[str, FieldSpec],
    names: list[str],
    unverified_penalty: float,
) -> list[Candidate]:
    """Every value in one validated reply, its quote checked against `chunk`."""
    data = reply.model_dump(mode="json")
    candidates: list[Candidate] = []
    for name in names:
        found = data.get(name)
        entries = found if specs[name].is_list else [found]
        for entry in entries or []:
            if entry is None or entry.get("value") is None:
                continue
            quote = quote_in_chunk(entry["quote"], chunk)
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
                )
            )
    return candidates
