"""Merging the candidates of every chunk into one value per field, deterministically.

- A scalar field: candidates are grouped by value (strings compared with whitespace and
  case normalised, so "ACME Corp" and "Acme  Corp" agree). Each group is ranked by its best
  candidate: verified before unverified, then higher confidence, then earlier in the
  inputs (document order, then offset). The first group is the value; the others are kept
  as `alternatives` with their evidence, for a person to judge.
- A list field: the items of all chunks in document order, one per value and place. The
  overlap between chunks repeats items: the same value quoted at overlapping spans of a
  document is one item, its quotes merged, while the same value at another place is another
  item (an invoice may list "Pallet of bolts - 80.00" twice). Files are parts of one record
  unless told they are copies of one document (`files_are_copies`, an invoice as text and as
  HTML): then items of one value pair up across files in document order (the first in one
  file with the first in the other), so each line comes out once, and a file listing a line
  more often than another adds the rest. A quote that was not found has no place: such an
  item merges with one of the same value from another chunk, but two of them in one chunk's
  reply stay two.
- A field no chunk gave is "missing".

The result does not depend on the order in which chunks came back from the LLM.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agents.documents.evidence import Candidate, value_key
from agents.documents.fields import FieldSpec
from agents.documents.result import FieldEvidence, Quote, ValueEvidence


def _rank(candidate: Candidate) -> tuple[bool, float, int, int, int]:
    return (
        not candidate.quote.verified,
        -candidate.confidence,
        candidate.file_index,
        candidate.position,
        candidate.chunk,
    )


def _in_document_order(candidate: Candidate) -> tuple[int, int, int, int, float, str]:
    # Candidates at one offset of one chunk (unverified ones share the chunk's start) keep
    # the reply's order, then confidence and quote make the order not depend on the order
    # in which they were gathered.
    return (
        candidate.file_index,
        candidate.position,
        candidate.chunk,
        candidate.order_in_reply,
        -candidate.confidence,
        candidate.quote.text,
    )


def _evidence(group: list[Candidate]) -> ValueEvidence:
    """One value's evidence: its best candidate's value and confidence, every quote."""
    best = min(group, key=_rank)
    quotes: list[Quote] = []
    seen: set[tuple[Any, ...]] = set()
    for candidate in sorted(group, key=_in_document_order):
        quote = candidate.quote
        key = (quote.file, quote.start, quote.end, quote.text)
        if key not in seen:
            seen.add(key)
            quotes.append(quote)
    return ValueEvidence(
        value=best.value, quotes=quotes, confidence=best.confidence, verified=best.quote.verified
    )


def _grouped(candidates: Iterable[Candidate]) -> list[list[Candidate]]:
    groups: dict[str, list[Candidate]] = {}
    for candidate in sorted(candidates, key=_in_document_order):
        groups.setdefault(value_key(candidate.value), []).append(candidate)
    return list(groups.values())


def merge_scalar(candidates: list[Candidate]) -> FieldEvidence:
    """The best-evidenced value, the other values as alternatives."""
    if not candidates:
        return FieldEvidence(status="missing")
    groups = sorted(_grouped(candidates), key=lambda group: _rank(min(group, key=_rank)))
    chosen = _evidence(groups[0])
    return FieldEvidence(
        **chosen.model_dump(),
        status="found",
        alternatives=[_evidence(group) for group in groups[1:]],
    )


def _items(candidates: Iterable[Candidate], files_are_copies: bool) -> list[list[Candidate]]:
    """A list field's candidates as items: each value at each place once, in document
    order."""
    items: list[list[Candidate]] = []
    by_value: dict[str, list[list[Candidate]]] = {}
    for candidate in sorted(candidates, key=_in_document_order):
        same_value = by_value.setdefault(value_key(candidate.value), [])
        item = next(
            (item for item in same_value if _same_item(item, candidate, files_are_copies)), None
        )
        if item is None:
            item = []
            same_value.append(item)
            items.append(item)
        item.append(candidate)
    return items


def _same_item(item: list[Candidate], candidate: Candidate, files_are_copies: bool) -> bool:
    """Whether `candidate` is one more quote of `item` (a candidate of the same value)."""
    place = _place(candidate.quote)
    places = [found for found in (_place(member.quote) for member in item) if found]
    if place is not None and places:
        file, start, end = place
        if files_are_copies and all(f != file for f, _, _ in places):
            return True  # the item as another copy of the document states it
        return any(f == file and start < e and s < end for f, s, e in places)
    # No place to compare: the same chunk lists an item once, so a second one is another.
    return all((m.file_index, m.chunk) != (candidate.file_index, candidate.chunk) for m in item)


def _place(quote: Quote) -> tuple[str, int, int] | None:
    if quote.start is None or quote.end is None:
        return None
    return quote.file, quote.start, quote.end


def merge_list(candidates: list[Candidate], files_are_copies: bool = False) -> FieldEvidence:
    """Every item, in document order, with its evidence."""
    if not candidates:
        return FieldEvidence(value=[], status="missing")
    items = [_evidence(item) for item in _items(candidates, files_are_copies)]
    return FieldEvidence(
        value=[item.value for item in items],
        quotes=[quote for item in items for quote in item.quotes],
        confidence=min(item.confidence for item in items),
        verified=all(item.verified for item in items),
        status="found",
        items=items,
    )


def merge_candidates(
    candidates: Iterable[Candidate], specs: dict[str, FieldSpec], files_are_copies: bool = False
) -> dict[str, FieldEvidence]:
    """One `FieldEvidence` per field of `specs`, in the schema's order. `files_are_copies`:
    the inputs are copies of one document, so a list item found in several is one item."""
    by_field: dict[str, list[Candidate]] = {name: [] for name in specs}
    for candidate in candidates:
        if candidate.field in by_field:
            by_field[candidate.field].append(candidate)
    return {
        name: merge_list(found, files_are_copies) if specs[name].is_list else merge_scalar(found)
        for name, found in by_field.items()
    }


def corrected(value: Any) -> FieldEvidence:
    """A reviewer's value: taken as is, with full confidence and no quote."""
    return FieldEvidence(value=value, status="corrected", confidence=1.0, verified=True)


def draft_data(fields: dict[str, FieldEvidence]) -> dict[str, Any]:
    """The data the evidence amounts to; missing scalar fields are left out, so the
    schema's defaults apply (and a required one fails validation by name)."""
    return {
        name: evidence.value
        for name, evidence in fields.items()
        if evidence.status != "missing" or isinstance(evidence.value, list)
    }
