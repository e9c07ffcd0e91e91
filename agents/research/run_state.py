"""`ResearchState`: what one research run has done so far, kept in the context's state.

In the store rather than on the workflow object, so one `ResearchWorkflow` can run several
questions at once in different contexts, and a saved context carries the run (a run saved
while the plan waits for review resumes there). The context's state is a
`ResearchWorkflowState`, the run's under its `run`, edited under `ctx.store.edit_state()`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.kit.state import KitState
from agents.research.report import ResearchPlan, SourceText


class ResearchState(BaseModel):
    """The current run's plan, sources and counters; made afresh by the `plan` step."""

    query: str
    """The question."""
    plan: ResearchPlan | None = None
    """The plan being followed."""
    round: int = 0
    """The round running (from 1)."""
    queries_run: list[str] = Field(default_factory=list)
    """Queries sent so far (folded), so a later round does not repeat one."""
    seen_urls: list[str] = Field(default_factory=list)
    """Normalised URLs of every source chosen for reading, so none is read twice."""
    next_source_id: int = 1
    """The number the next chosen source gets."""
    pending_searches: int = 0
    """Searches `select_sources` waits for in this round."""
    pending_reads: int = 0
    """Reads `gather_reads` waits for in this round."""
    sources: list[SourceText] = Field(default_factory=list)
    """Every source read, with its text and checked notes, by id."""
    failed: int = 0
    """Searches and reads that failed."""
    citation_retries: int = 0
    """Drafts sent back to the writer so far because they cited no source."""


class ResearchWorkflowState(KitState[ResearchState]):
    """The context state of a `ResearchWorkflow`: the run's `ResearchState` under `run`,
    the usage ledger, and any key a user's code sets."""
