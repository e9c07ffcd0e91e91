"""`ExtractionState`: what one run knows, kept in the context's state so it is saved with it.

Only `plan` (before the fan-out), `collect` (the one collector, during it) and `review`
(between rounds, when nothing is in flight) write it, each under `ctx.store.edit_state()`.
The context's state is an `ExtractionWorkflowState`, the run's under its `run`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from agents.documents.chunking import Chunk
from agents.documents.events import ChunkExtracted
from agents.documents.evidence import Candidate
from agents.documents.loading import TextSource
from agents.documents.result import FileReport
from agents.kit.state import KitState


class ProposalState(BaseModel):
    """What a `SchemaProposalWorkflow` run asks its schema from, kept until it is approved."""

    prompt: str
    """What to extract, in the user's words."""
    excerpts: list[str]
    """The beginning of the documents the LLM may be shown, shortest first, each one chunk
    longer: a request takes the longest that keeps it within the token budget."""
    files: list[str] = Field(default_factory=list)
    """The run's files, read again for the extraction once the schema is approved."""
    documents: list[TextSource] = Field(default_factory=list)
    """The run's given texts, extracted from once the schema is approved."""
    proposals: int = 0
    """Proposals shown to the human so far."""
    feedback: list[str] = Field(default_factory=list)
    """The human's feedback so far, oldest first: each revision request carries it all."""


class ExtractionState(BaseModel):
    """The run's inputs, chunks, candidates and review so far."""

    approved_schema: dict[str, Any] | None = None
    """The JSON schema this run extracts when the run brings its own (the one a human
    approved in a `SchemaProposalWorkflow`); None for the workflow's `schema=`."""
    proposal: ProposalState | None = None
    """A `SchemaProposalWorkflow` run's proposal inputs; None otherwise."""
    _checked_schema: Any = PrivateAttr(default=None)

    @property
    def checked_schema(self) -> Any:
        """`approved_schema` as checked for the extraction (a `JsonSchema`), once a step
        asked for it; never saved (it is rebuilt from `approved_schema`)."""
        return self._checked_schema

    @checked_schema.setter
    def checked_schema(self, schema: Any) -> None:
        self._checked_schema = schema

    files: list[FileReport] = Field(default_factory=list)
    """Every input in order, with its status."""
    chunks: list[Chunk] = Field(default_factory=list)
    """Every chunk extracted in round 0 (re-extraction sends them again)."""
    candidates: list[Candidate] = Field(default_factory=list)
    """Every value found so far (re-extracted fields' old values removed)."""
    round: int = 0
    """The extraction round under way."""
    answered: dict[int, int] = Field(default_factory=dict)
    """Input index to chunks answered in this round."""
    corrections: dict[str, Any] = Field(default_factory=dict)
    """A reviewer's values, in JSON form, by field."""
    problems: list[str] = Field(default_factory=list)
    """What was wrong with the last review answer, for the next `ReviewRequired`."""
    reviews: int = 0
    """Review answers received."""
    warnings: list[str] = Field(default_factory=list)
    """Unreadable files and failed chunks, as they happened."""
    failed_chunks: dict[str, str] = Field(default_factory=dict)
    """"file, chunk n" to why no reply fit, for the chunks whose last answer failed."""

    def round_settled(self) -> bool:
        """Whether every input has failed or had all its chunks answered this round."""
        for index, report in enumerate(self.files):
            if report.status == "pending":
                return False
            if report.status == "ok" and self.answered.get(index, 0) < report.chunks:
                return False
        return True

    def record_chunk(self, ev: ChunkExtracted) -> int:
        """Take in one chunk's answer; how many chunks of its input this round has had
        answered (the input is "ok" once all of them are, in round 0)."""
        piece = ev.chunk
        report = self.files[piece.file_index]
        if ev.round == 0:
            self.chunks.append(piece)
            report.chunks, report.pages = piece.count, piece.pages
        self.candidates.extend(ev.candidates)
        where = f"{piece.file}, chunk {piece.index + 1}"
        if ev.error is not None:
            self.warnings.append(f"{where}: {ev.error}")
            self.failed_chunks[where] = ev.error
        else:
            self.failed_chunks.pop(where, None)
        done = self.answered.get(piece.file_index, 0) + 1
        self.answered[piece.file_index] = done
        if done == piece.count and report.status == "pending":
            report.status = "ok"
            # Chunks come back in any order: sorted once an input is complete, so that
            # re-extraction sends them in document order.
            self.chunks.sort(key=lambda c: (c.file_index, c.index))
        return done


class ExtractionWorkflowState(KitState[ExtractionState]):
    """The context state of an `ExtractionWorkflow`: the run's `ExtractionState` under
    `run`, the usage ledger, and any key a user's code sets."""
