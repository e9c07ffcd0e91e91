"""The events of an extraction run: what the stream shows, and what the steps pass on.

On the stream: `FileProgress` as each input is loaded, chunked and extracted (per chunk),
`FileFailed` for an input that could not be read, `ChunkFailed` for a chunk whose replies
never fit the schema, and `ReviewRequired` when the draft waits for a human (answer it
with `ReviewResponse`). The run ends with a `StopEvent` whose result is the
`ExtractionResult`. The other events pass between steps only:

```
ExtractionStart ─ plan ─> LoadRequest ─ load ─> FileLoaded ─ chunk ─> ChunkRequest ─ extract
                             └─> FileFailed ───────┴─> FileFailed          ChunkExtracted <┘
             collect (every input settled) ─> MergeRequest ─ merge ─> DraftReady ─ review
    review ─> ReviewDone ─ finalize ─> StopEvent(ExtractionResult)
           └─> ChunkRequest (feedback: re-extract the fields named)  └─> MergeRequest (corrections)
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, cast

from pydantic import Field

from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent
from agents.documents.chunking import Chunk
from agents.documents.evidence import Candidate
from agents.documents.loading import SourceDocument, TextSource
from agents.documents.result import FieldEvidence
from agents.llm.types import ChatMessage

_APPROVALS = frozenset({"", "y", "yes", "ok", "okay", "approve", "approved"})

# -- the stream ----------------------------------------------------------------------------


class FileProgress(Event):
    """How far one input has got."""

    file: str
    """The input (file as given, or document name)."""
    file_index: int
    """Its position among the run's inputs."""
    stage: Literal["loaded", "chunked", "extracted", "done"]
    """"loaded" (pages read), "chunked", "extracted" (one more chunk answered), "done"."""
    pages: int = 0
    """Pages read."""
    chunks_done: int = 0
    """Chunks answered so far (this extraction round)."""
    chunks_total: int = 0
    """Chunks in the input (0 before it is chunked)."""
    round: int = 0
    """0 for the first extraction, then 1, 2, ... per re-extraction after feedback."""


class FileFailed(Event):
    """An input could not be read; the other inputs go on."""

    file: str
    """The input as given."""
    file_index: int
    """Its position among the run's inputs."""
    reason: str
    """Why: missing, unsupported type, corrupt, no text."""


class ChunkFailed(Event):
    """A chunk gave no usable reply (it never fit the schema, or the model refused)."""

    file: str
    """The chunk's input."""
    chunk: int
    """The chunk's index in it."""
    reason: str
    """The last error."""


class ReviewRequired(InputRequiredEvent):
    """The draft waits for a human: answer with `ReviewResponse`."""

    data: dict[str, Any]
    """The draft data, as JSON."""
    fields: dict[str, FieldEvidence]
    """The evidence for every field."""
    reasons: list[str] = Field(default_factory=list)
    """What looks doubtful (low confidence, unverified quotes, conflicts, missing fields)."""
    problems: list[str] = Field(default_factory=list)
    """What was wrong with the previous answer (a correction that did not validate)."""
    review: int = 1
    """1 for the first review of the run, then 2, 3, ..."""
    prefix: str = ""
    """The prompt a console shows."""


class ReviewResponse(HumanResponseEvent):
    """A human's answer to `ReviewRequired`. A plain `HumanResponseEvent(response=...)`
    (from a console such as `agentflow run`) is read as one with `from_text`."""

    approved: bool = False
    """True to accept the draft (with `corrections` applied); False to see it again."""
    corrections: dict[str, Any] = Field(default_factory=dict)
    """Field name to value, applied as is (checked against the field's type)."""
    feedback: str = ""
    """What is wrong, in words: the fields it names (when it names none, all
    those not corrected) are extracted again with it."""

    @classmethod
    def from_text(cls, text: str) -> ReviewResponse:
        """A console line as an answer: empty, "y", "yes", "ok" approve; a JSON object is
        corrections (the draft is shown again with them); anything else is feedback."""
        line = ConsoleLine.read(text)
        if line.approves:
            return cls(approved=True)
        if line.json_object is not None:
            return cls(corrections=line.json_object)
        return cls(feedback=line.text)


@dataclass(frozen=True)
class ConsoleLine:
    """A human's answer typed on one line, as the reviews read it."""

    text: str
    """The line, stripped."""
    approves: bool
    """Empty, "y", "yes", "ok", "approve(d)": an approval."""
    json_object: dict[str, Any] | None
    """The line as a JSON object, when it is one (corrections, an edited schema)."""

    @classmethod
    def read(cls, text: str) -> ConsoleLine:
        """`text` read as an approval, a JSON object, or words."""
        line = text.strip()
        parsed: Any = None
        if line.startswith("{"):
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError:
                parsed = None
        return cls(
            text=line,
            approves=line.casefold() in _APPROVALS,
            json_object=parsed if isinstance(parsed, dict) else None,
        )


class _TextAnswer(Protocol):
    @classmethod
    def from_text(cls, text: str) -> Any: ...


AnswerT = TypeVar("AnswerT", bound=HumanResponseEvent)


def answer_as(response: HumanResponseEvent, kind: type[AnswerT]) -> AnswerT | str:
    """`response` as a `kind` answer: itself when it is one, a plain
    `HumanResponseEvent`'s text read with `kind.from_text`; any other subclass is the
    answer to another question, returned as the problem to show (never read as text: its
    empty `response` would read as an approval)."""
    if isinstance(response, kind):
        return response
    if type(response) is HumanResponseEvent:
        reader = cast(_TextAnswer, kind)  # ReviewResponse and SchemaReview both read text
        answer: AnswerT = reader.from_text(str(response.get("response") or ""))
        return answer
    return (
        f"a {type(response).__name__} is not an answer to this question: "
        f"answer with {kind.__name__} (or a plain HumanResponseEvent's text)"
    )


# -- between steps -------------------------------------------------------------------------


class ExtractionStart(StartEvent):
    """What `run(files=[...], documents=[...])` starts with."""

    files: list[str] = Field(default_factory=list)
    """Paths to read."""
    documents: list[TextSource] = Field(default_factory=list)
    """Texts given directly."""


class LoadRequest(Event):
    """One file to read."""

    file: str
    """The path."""
    file_index: int
    """Its position among the run's inputs."""


class FileLoaded(Event):
    """An input as pages, ready to chunk."""

    document: SourceDocument
    """The pages."""
    file_index: int
    """Its position among the run's inputs."""


class ChunkRequest(Event):
    """One chunk to extract from."""

    chunk: Chunk
    """The text and where it is."""
    round: int = 0
    """The extraction round."""
    fields: list[str] | None = None
    """The fields to ask for; None for all."""
    feedback: str | None = None
    """A reviewer's feedback, when re-extracting."""
    previous: dict[str, Any] = Field(default_factory=dict)
    """The values the reviewer saw for `fields`."""
    reasks: list[ChatMessage] = Field(default_factory=list)
    """The replies that failed the schema so far, each followed by the request to answer
    again: every attempt is an `extract` execution of its own, so a durable run journals
    each reply and never asks for it again after a crash."""

    @property
    def attempt(self) -> int:
        """Which attempt at this chunk this request is (1 for the first)."""
        return len(self.reasks) // 2 + 1


class ChunkExtracted(Event):
    """What one chunk gave."""

    chunk: Chunk
    """The chunk."""
    round: int = 0
    """The extraction round it answers."""
    candidates: list[Candidate] = Field(default_factory=list)
    """Its values, quotes checked."""
    error: str | None = None
    """Why it gave nothing, when no reply fit the schema."""


class MergeRequest(Event):
    """Every input of the round is settled: merge what was found."""

    round: int = 0
    """The extraction round."""


class DraftReady(Event):
    """The merged draft, corrections applied."""

    data: dict[str, Any]
    """The draft data, as JSON."""
    fields: dict[str, FieldEvidence]
    """The evidence per field."""


class ReviewDone(Event):
    """The draft is final (approved, or no review was needed)."""

    data: dict[str, Any]
    """The data to validate as the schema."""
    fields: dict[str, FieldEvidence]
    """The evidence per field."""
