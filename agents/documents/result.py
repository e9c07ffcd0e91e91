"""What a run gives: the validated data, and for every field the evidence behind it.

```
ExtractionResult
  data: Invoice(...)                      the user's model, validated
  fields: {"total": FieldEvidence(        one per schema field
      value=1234.5, status="found", confidence=0.9, verified=True,
      quotes=[Quote(text="Total due: $1,234.50", file="inv.pdf", page=2, start=812, end=832,
                    status="verified")],        or "found_not_supporting", "not_found"
      alternatives=[ValueEvidence(value=1200.0, ...)])}    conflicting values, not chosen
  files: [FileReport(file="inv.pdf", status="ok", pages=2, chunks=3), ...]
  usage, warnings, reviews
```

Spans are character offsets into the file's text as read: pages joined with a blank line
(`loading.PAGE_SEPARATOR`), so `text[start:end]` is the passage the quote was found at.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, SerializeAsAny, computed_field, model_validator

from agents.llm.types import Usage

ModelT = TypeVar("ModelT", bound=BaseModel | dict[str, Any])
"""What a run fills: the user's pydantic model, or a dict for a JSON Schema."""


QuoteStatus = Literal["verified", "found_not_supporting", "not_found"]
"""What checking a quote against its chunk showed (`Quote.status`)."""


class Quote(BaseModel):
    """A passage the LLM quoted for a value, and where it was found."""

    text: str
    """The quote as the LLM wrote it."""
    file: str
    """The file (or document name) of the chunk it was quoted from."""
    page: int | None = None
    """The page the passage starts on (from 1); None for formats without pages."""
    start: int | None = None
    """Offset of the passage in the file's text; None when it was not found."""
    end: int | None = None
    """Offset just past the passage; None when it was not found."""
    status: QuoteStatus = "not_found"
    """"verified": found in its chunk (exactly, or after normalising whitespace, case and
    typographic punctuation) and stating the value (`agents.documents.support`);
    "found_not_supporting": found, but the value (or a part of it) is not in it;
    "not_found": not in the chunk, so perhaps invented."""

    @model_validator(mode="before")
    @classmethod
    def _status_from_verified(cls, data: Any) -> Any:
        # Quotes made before `status` existed (a context saved by an earlier version,
        # `Quote(verified=True)`) say only whether they were verified.
        if isinstance(data, dict) and "status" not in data and "verified" in data:
            return {**data, "status": "verified" if data["verified"] else "not_found"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verified(self) -> bool:
        """True when the quote was found and states the value: `status == "verified"`."""
        return self.status == "verified"


class ValueEvidence(BaseModel):
    """One value with the quotes that support it."""

    value: Any = None
    """The value, in JSON form (dates as ISO strings, nested models as dicts)."""
    quotes: list[Quote] = Field(default_factory=list)
    """Every quote given for this value, in document order."""
    confidence: float = 0.0
    """The best quote's confidence, lowered when no quote was verified; 1.0 for a
    reviewer's correction."""
    verified: bool = False
    """True when a quote was found in the document and states the value (or a reviewer
    set it)."""


class FieldEvidence(ValueEvidence):
    """A field's merged value and what it rests on."""

    status: Literal["found", "missing", "corrected"] = "missing"
    """"found" in the documents, "missing" from all of them, or "corrected" by a reviewer."""
    alternatives: list[ValueEvidence] = Field(default_factory=list)
    """Other values the documents gave for a scalar field, best first: kept for a person
    to judge, never silently dropped."""
    items: list[ValueEvidence] = Field(default_factory=list)
    """For a list field, each distinct item with its own evidence, in document order."""


class FileReport(BaseModel):
    """How one input fared."""

    file: str
    """The file as given, or the document's name."""
    status: Literal["pending", "ok", "failed"] = "pending"
    """"ok" once all its chunks were extracted, "failed" when it could not be read."""
    pages: int = 0
    """Pages read (1 for formats without pages)."""
    chunks: int = 0
    """Chunks sent to the LLM."""
    reason: str | None = None
    """Why it failed."""


class ExtractionResult(BaseModel, Generic[ModelT]):
    """The outcome of an `ExtractionWorkflow` run: `await workflow.run(files=[...])`."""

    data: SerializeAsAny[ModelT]
    """The extracted data, validated as the user's schema."""
    fields: dict[str, FieldEvidence]
    """Evidence for every field of the schema, in the schema's order."""
    files: list[FileReport]
    """Every input, in the order given, with its status."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens the run's LLM calls used."""
    warnings: list[str] = Field(default_factory=list)
    """What a person should know: unreadable files, chunks that never fit the schema,
    quotes not found or not stating their value, conflicting values, fields not found."""
    reviews: int = 0
    """How many times a human reviewed the draft."""

    def to_json(self, indent: int | None = 2) -> str:
        """The whole result as JSON (the data, then the evidence)."""
        return self.model_dump_json(indent=indent)
