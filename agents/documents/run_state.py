"""`ExtractionState`: what one run knows, kept in the context's state so it is saved with it.

Only `plan` (before the fan-out), `collect` (the one collector, during it) and `review`
(between rounds, when nothing is in flight) write it, so no two steps edit it at once.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agents.documents.chunking import Chunk
from agents.documents.evidence import Candidate
from agents.documents.result import FileReport
from agents.llm.types import Usage


class ExtractionState(BaseModel):
    """The run's inputs, chunks, candidates and review so far."""

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
    usage_before: Usage = Field(default_factory=Usage)
    """The ledger's total when the run started: the run's usage is what it added."""

    def round_settled(self) -> bool:
        """Whether every input has failed or had all its chunks answered this round."""
        for index, report in enumerate(self.files):
            if report.status == "pending":
                return False
            if report.status == "ok" and self.answered.get(index, 0) < report.chunks:
                return False
        return True
