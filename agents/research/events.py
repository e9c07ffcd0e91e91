"""The events of a research run: what the stream shows, and what the steps pass on.

On the stream, in order: `PlanCreated` (and `PlanReview`, waiting for a human, with
`review_plan=True`), then per round `SearchStarted` per query (`SearchFailed` for one that
failed), `SourceRead` per source read (`SourceFailed` for one that could not be), and
`RoundFinished`; then `ReportDelta` per streamed chunk of the report (after a
`RewriteRequested`, the chunks of a new draft, from its start), `CitationsChecked`, and the
`ResearchReport` that ends the run. The other events pass between steps only.
"""

from __future__ import annotations

from pydantic import Field, computed_field

from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent
from agents.research.report import ResearchPlan, SourceText, SubQuestion
from agents.research.search import SearchHit
from agents.streamed_text import StreamedTextEvent

# -- the stream ----------------------------------------------------------------------------


class PlanCreated(Event):
    """The plan, as drafted by the LLM (revision 0) or revised after a human's review."""

    plan: ResearchPlan
    """The sub-questions and their queries."""
    revision: int = 0
    """0 for the first draft, then 1, 2, ... per revision."""


class PlanReview(InputRequiredEvent):
    """With `review_plan=True`: the plan waits for a human. Answer with
    `PlanReviewResponse` (approve, replace the plan, or give feedback to re-plan), or
    from `agentflow run` with a line: empty or "yes" approves, a JSON plan replaces it, any
    other text is feedback."""

    plan: ResearchPlan
    """The plan to approve or change."""
    prefix: str = ""
    """The prompt a console shows."""


class PlanReviewResponse(HumanResponseEvent):
    """A human's answer to `PlanReview`."""

    approved: bool = True
    """True to run `plan` (or the plan shown, when `plan` is None)."""
    plan: ResearchPlan | None = None
    """An edited plan to run instead of the one shown."""
    feedback: str | None = None
    """What to change; the LLM re-plans with it and the new plan is shown again."""


class SearchStarted(Event):
    """A query is being sent to the search backend."""

    round: int
    """The round, from 1."""
    sub_question: str
    """The sub-question the query is for."""
    query: str
    """The query."""


class SearchFailed(Event):
    """A query failed; the round goes on without its hits."""

    round: int
    """The round."""
    query: str
    """The query."""
    error: str
    """What went wrong."""


class SourceRead(Event):
    """A source was fetched and read into notes."""

    round: int
    """The round."""
    source_id: int
    """The number the report cites it by."""
    url: str
    """Where it was read from."""
    title: str
    """Its title."""
    notes: int
    """Notes taken from it (with quotes found in its text)."""
    dropped_notes: int = 0
    """Notes dropped because their quote is not in the text."""


class SourceFailed(Event):
    """A source could not be fetched or read; the run goes on without it."""

    round: int
    """The round."""
    url: str
    """The source."""
    error: str
    """What went wrong."""


class RoundFinished(Event):
    """A round of searching and reading is over."""

    round: int
    """The round that finished."""
    new_sources: int
    """Sources read in this round."""
    sources_read: int
    """Sources read so far."""
    missing: list[str] = Field(default_factory=list)
    """What the LLM found still unanswered (the next round's sub-questions); it is not
    asked after the last round `max_rounds` or `max_sources` allow."""
    next_round: bool = False
    """Whether another round follows."""


class ReportDelta(StreamedTextEvent):
    """One streamed chunk of the report, before the citation check. `text` (the report so
    far) is read from the report's shared text, not stored per event
    (`agents.streamed_text`)."""

    text_so_far_field = "text"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        """The report so far, this chunk's included."""
        return self.text_so_far()


class RewriteRequested(Event):
    """The draft just streamed cites no source although notes were read, so the writer is
    asked again: the `ReportDelta`s that follow are a new draft, from its start (their
    `text` starts afresh). A console that printed the first draft can say so here."""

    attempt: int
    """Which rewrite this is: 1 for the first, up to the workflow's `max_citation_retries`."""
    reason: str
    """Why the draft is not kept, for people."""
    draft: str
    """The draft that is being rewritten."""


class CitationsChecked(Event):
    """The outcome of the citation check, just before the report is returned."""

    verified: int
    """Claims that passed."""
    unverified: int
    """Claims that failed (marked or removed)."""
    removed_citations: int
    """Citation markers taken out because they named a source that was not read."""


# -- between steps -------------------------------------------------------------------------


class ResearchStart(StartEvent):
    """What `workflow.run(query=...)` starts with."""

    query: str
    """The question to research."""


class PlanDrafted(Event):
    """A plan on its way to the review step: the LLM's, revised or edited `revision` times."""

    plan: ResearchPlan
    """The plan."""
    revision: int = 0
    """Changes made to the LLM's first plan so far (edits and revisions)."""
    note: str = ""
    """What the review shows above the plan (why the last answer was not taken), or ""."""


class PlanRevisionRequested(Event):
    """A human's feedback on a plan, on its way to the `revise` step: the LLM's revision is
    a step execution of its own, so a durable run journals it before the plan is shown
    again, and a crash while the revised plan waits never asks for it again."""

    plan: ResearchPlan
    """The plan the feedback is about."""
    feedback: str
    """What the human asked to change."""
    revision: int
    """Changes made to the LLM's first plan before this one."""
    note: str = ""
    """What the review of the revised plan shows above it."""


class RoundStart(Event):
    """Research these sub-questions in round `round`."""

    round: int
    """The round, from 1."""
    sub_questions: list[SubQuestion]
    """The sub-questions, with their queries."""


class SearchRequest(Event):
    """One query to send, as part of a round."""

    round: int
    """The round."""
    sub_question: str
    """The sub-question it is for."""
    query: str
    """The query."""
    index: int
    """Its position in the round, so hits are merged in plan order."""


class SearchResults(Event):
    """The hits for one query (none when it failed)."""

    request: SearchRequest
    """The query."""
    hits: list[SearchHit] = Field(default_factory=list)
    """The hits, best first."""
    error: str | None = None
    """Why the search failed, or None."""


class ReadRequest(Event):
    """A new source to fetch and read."""

    round: int
    """The round."""
    source_id: int
    """The number it will be cited by."""
    hit: SearchHit
    """The hit that found it."""
    sub_questions: list[str]
    """The sub-questions whose searches found it (the reader's focus)."""


class ReadResult(Event):
    """A source's text and notes, or why it could not be read."""

    request: ReadRequest
    """What was read."""
    source: SourceText | None = None
    """The source with its text and checked notes; None when it failed."""
    error: str | None = None
    """Why it could not be read, or None."""


class RoundRead(Event):
    """Every source of round `round` has been read (or has failed)."""

    round: int
    """The round."""
    new_sources: int
    """Sources read in it."""


class WriteRequest(Event):
    """The research is done: write the report, or, from the `check` step, write it again."""

    rounds: int
    """Rounds run."""
    uncited_draft: str | None = None
    """The previous draft, which cited no source: the writer is shown it and told to cite."""


class DraftWritten(Event):
    """The report as the LLM wrote it, before the citation check."""

    markdown: str
    """The draft, with `[n]` and `[n: "quote"]` citations."""
