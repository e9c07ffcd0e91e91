"""What a human review looks at, and how an answer changes the run.

A draft calls for a look (with `review="low_confidence"`) when a required field is
missing, a value's quote was not found in the document or does not state the value, its
confidence is below the threshold, or the documents give conflicting values. An answer's
corrections are checked against the fields' types and kept (they win over anything
extracted later, until feedback names the field again); its feedback picks the fields to
extract again: those it names, by name or in words ("invoice number" for
`invoice_number`), or all those not corrected when it names none.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from agents.documents.errors import ValueMismatchError
from agents.documents.events import ReviewResponse
from agents.documents.fields import FieldSpec
from agents.documents.result import FieldEvidence
from agents.documents.run_state import ExtractionState
from agents.documents.support import unstated


def review_reasons(
    fields: dict[str, FieldEvidence], specs: dict[str, FieldSpec], threshold: float
) -> list[str]:
    """What in the draft a person should look at, one line per doubt."""
    reasons: list[str] = []
    for name, evidence in fields.items():
        if evidence.status == "corrected":
            continue
        if evidence.status == "missing":
            if specs[name].required:
                reasons.append(f"{name}: required, but not found")
            continue
        if not evidence.verified:
            reasons.extend(
                _unverified_values(name, evidence, "its quote was not found in the document")
            )
        if evidence.confidence < threshold:
            reasons.append(f"{name}: confidence {evidence.confidence:.2f} is below {threshold:.2f}")
        if evidence.alternatives:
            others = ", ".join(repr(alt.value) for alt in evidence.alternatives)
            reasons.append(f"{name}: the documents also give {others}")
    return reasons


def field_warnings(fields: dict[str, FieldEvidence]) -> list[str]:
    """The warnings the final evidence calls for: missing, unverified (a quote not found,
    or found but not stating the value), conflicting."""
    warnings: list[str] = []
    for name, evidence in fields.items():
        if evidence.status == "missing":
            warnings.append(f"{name}: not found in any document")
        elif evidence.status == "found" and not evidence.verified:
            warnings.extend(
                _unverified_values(name, evidence, "no quote for it was found in the document")
            )
        if evidence.alternatives:
            others = ", ".join(repr(alt.value) for alt in evidence.alternatives)
            warnings.append(f"{name}: conflicting values also found: {others}")
    return warnings


def _unverified_values(name: str, evidence: FieldEvidence, not_found: str) -> list[str]:
    """One line per value of the field (the value, or each list item, numbered from 1)
    that no quote verifies: a quote found but not stating it is named, with the parts it
    leaves out; otherwise the line says `not_found`."""
    lines: list[str] = []
    values = evidence.items or [evidence]
    for number, found in enumerate(values, 1):
        if found.verified:
            continue
        where = f"{name}[{number}]" if evidence.items else name
        quote = next((q for q in found.quotes if q.status == "found_not_supporting"), None)
        if quote is None:
            lines.append(f"{where}: {not_found}")
        else:
            missing = ", ".join(str(part) for part in unstated(found.value, quote.text))
            lines.append(f"{where}: its quote {quote.text!r} does not state {missing}")
    return lines


def fields_named(feedback: str, names: list[str]) -> list[str]:
    """The fields `feedback` mentions, by name or with spaces for underscores."""
    text = feedback.casefold()
    named = []
    for name in names:
        spoken = name.replace("_", " ").casefold()
        if re.search(rf"\b({re.escape(name.casefold())}|{re.escape(spoken)})\b", text):
            named.append(name)
    return named


def apply_review(
    state: ExtractionState, answer: ReviewResponse, specs: dict[str, FieldSpec]
) -> list[str]:
    """Take the answer's corrections into `state` (what does not validate goes to
    `state.problems`); return the fields its feedback asks to extract again."""
    refetch: list[str] = []
    feedback = answer.feedback.strip()
    if feedback and not answer.approved:  # approval ends the review: no new look
        named = fields_named(feedback, list(specs))
        for name in named:  # a new look at a field supersedes an earlier correction of it
            state.corrections.pop(name, None)
        # Feedback naming no field is about the extraction, not about what the reviewer
        # already corrected: those corrections stand.
        refetch = named or [name for name in specs if name not in state.corrections]
    for name, value in answer.corrections.items():
        spec = specs.get(name)
        if spec is None:
            state.problems.append(
                f"correction for unknown field {name!r}; fields: {', '.join(specs)}"
            )
            continue
        try:
            state.corrections[name] = spec.validate(value)
        except ValidationError as error:
            # The location inside the value too: "line_items.1.amount", not "line_items",
            # whether pydantic found it (a model) or jsonschema did (a JSON Schema).
            for where, message in _problems_at(name, error):
                state.problems.append(f"correction for {where} was not applied: {message}")
            continue
        if name in refetch:  # corrected in the same answer: nothing left to look for
            refetch.remove(name)
    return refetch


def _problems_at(name: str, error: ValidationError) -> list[tuple[str, str]]:
    """What is wrong with a correction of `name`, each problem with its key path from the
    field: pydantic's first (a model's field), or each that jsonschema found (a JSON
    Schema's field, `ValueMismatchError`)."""
    problem = error.errors()[0]
    cause = problem.get("ctx", {}).get("error")
    if isinstance(cause, ValueMismatchError):
        return [
            (".".join(part for part in (name, path) if part), message)
            for path, message in cause.problems
        ]
    return [(".".join(str(part) for part in (name, *problem["loc"])), problem["msg"])]
