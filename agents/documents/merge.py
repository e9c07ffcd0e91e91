"""Merging the candidates of every chunk into one value per field, deterministically.

- A scalar field: candidates are grouped by value (strings compared with whitespace and
  case normalised, so "ACME Corp" and "Acme  Corp" agree). Each group is ranked by its best
  candidate: verified before unverified, then higher confidence, then earlier in the
  inputs (document order, then offset). The first group is the value; the others are kept
  as `alternatives` with their evidence, for a person to judge.
- A list field: the items of all chunks in document order, duplicates (the overlap between
  chunks repeats items) merged with their quotes.
- A field no chunk gave is "missing".

The result does not depend on the order in which chunks came back from the LLM.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from agents.documents.evidence import Candidate
from agents.documents.fields import FieldSpec
from agents.documents.result import FieldEvidence, Quote, ValueEvidence


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


def _rank(candidate: Candidate) -> tuple[bool, float, int, int, int]:
    return (
        not candidate.quote.verified,
        -candidate.confidence,
        candidate.file_index,
        candidate.position,
        candidate.chunk,
    )


def _in_document_order(candidate: Candidate) -> tuple[int, int, int]:
    return candidate.file_index, candidate.position, candidate.chunk


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


def merge_list(candidates: list[Candidate]) -> FieldEvidence:
    """Every distinct item, in document order, with its evidence."""
    if not candidates:
        return FieldEvidence(value=[], status="missing")
    items = [_evidence(group) for group in _grouped(candidates)]
    return FieldEvidence(
        value=[item.value for item in items],
        quotes=[quote for item in items for quote in item.quotes],
        confidence=min(item.confidence for item in items),
        verified=all(item.verified for item in items),
        status="found",
        items=items,
    )


def merge_candidates(
    candidates: Iterable[Candidate], specs: dict[str, FieldSpec]
) -> dict[str, FieldEvidence]:
    """One `FieldEvidence` per field of `specs`, in the schema's order."""
    by_field: dict[str, list[Candidate]] = {name: [] for name in specs}
    for candidate in candidates:
        if candidate.field in by_field:
            by_field[candidate.field].append(candidate)
    return {
        name: merge_list(found) if specs[name].is_list else merge_scalar(found)
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
