"""What a research run produces and keeps: the plan, notes, sources, claims, the report.

`ResearchPlan`, `SourceNotes` and `GapReport` are what the LLM is asked for with structured
output (strict JSON schemas), so their fields carry descriptions the model reads, and none
is Optional: a server that turns the schema into a grammar would let a small model skip an
Optional part with one `null`, and small models do (an empty answer is `[]`). `Source`,
`Claim` and `ResearchReport` are what the caller gets; `SourceText` is a read source with
its full text, kept in the run's state so the citation check can look quotes up in it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agentflow.events import StopEvent
from agents.llm.types import Usage
from agents.research.errors import PlanError


class SubQuestion(BaseModel):
    """One part of the question, answered by searching."""

    question: str = Field(description="A focused question that helps answer the main one.")
    """The sub-question."""
    queries: list[str] = Field(
        description="Search queries (keywords, not sentences) that would find its answer."
    )
    """What to search for it."""


class ResearchPlan(BaseModel):
    """The sub-questions a run researches, each with its search queries."""

    sub_questions: list[SubQuestion] = Field(description="The sub-questions, most important first.")
    """The sub-questions, in order."""

    def capped(self, max_sub_questions: int, queries_per_question: int) -> ResearchPlan:
        """The plan with at most `max_sub_questions`, each with at most
        `queries_per_question` queries (models do not always keep to the numbers asked)."""
        return ResearchPlan(
            sub_questions=[
                SubQuestion(question=sub.question, queries=sub.queries[:queries_per_question])
                for sub in self.sub_questions[:max_sub_questions]
            ]
        )

    def searchable(self) -> ResearchPlan:
        """The plan without blank sub-questions and queries, a sub-question without a query
        searched by its own words. Raises `PlanError` when nothing is left."""
        subs = [
            SubQuestion(
                question=sub.question,
                queries=[q for q in sub.queries if q.strip()] or [sub.question],
            )
            for sub in self.sub_questions
            if sub.question.strip()
        ]
        if not subs:
            raise PlanError("the plan has no sub-question to research")
        return ResearchPlan(sub_questions=subs)

    def render(self) -> str:
        """The plan as a numbered list, for people (`PlanReview.prefix`, logs)."""
        lines = []
        for number, sub in enumerate(self.sub_questions, 1):
            lines.append(f"{number}. {sub.question}")
            lines.extend(f"   - search: {query}" for query in sub.queries)
        return "\n".join(lines)


class Note(BaseModel):
    """One finding from a source, with the source's own words that support it."""

    point: str = Field(description="The finding, in one sentence of your own.")
    """The finding."""
    quote: str = Field(
        description="The exact words from the source supporting the finding, copied "
        "character for character (one sentence or less)."
    )
    """Verbatim from the source; notes whose quote is not in it are dropped."""


class SourceNotes(BaseModel):
    """What the LLM took from one source."""

    relevant: bool = Field(description="Whether the source helps answer the questions.")
    """False for a source with nothing on the question (it is then not cited)."""
    notes: list[Note] = Field(description="Findings that help answer the questions.")
    """The findings."""


class GapReport(BaseModel):
    """What is still unanswered after a round, as sub-questions for the next one."""

    missing: list[SubQuestion] = Field(
        description="Sub-questions the notes do not answer yet, each with new search "
        "queries; empty when the notes answer the question."
    )
    """Empty when nothing is missing."""


class Source(BaseModel):
    """A source that was read; `[id]` in the report cites it."""

    id: int
    """The number the report cites it by."""
    url: str
    """Where it was read from (`file://` for the local corpus)."""
    title: str
    """Its title, from the search hit or the document."""


class SourceText(Source):
    """A read source with its text and notes, as the run's state keeps it."""

    text: str
    """The text the LLM read (cut to `max_source_chars`); quotes are checked against it."""
    notes: list[Note] = Field(default_factory=list)
    """Its notes whose quotes were found in `text`."""
    relevant: bool = True
    """Whether the reader found anything on the question in it."""
    round: int = 1
    """The round it was read in."""

    def to_source(self) -> Source:
        """The public part: id, url, title."""
        return Source(id=self.id, url=self.url, title=self.title)


class Claim(BaseModel):
    """One sentence of the report that cites sources, with the quotes it gave for them."""

    text: str
    """The sentence, without its citation markers."""
    source_ids: list[int]
    """The sources it cites, in order (for an unverified claim, as the writer wrote them)."""
    quotes: list[str] = Field(default_factory=list)
    """The quotes the writer attached, each checked against its source's text."""
    problems: list[str] = Field(default_factory=list)
    """Why the claim is unverified; empty for a verified claim."""

    @property
    def verified(self) -> bool:
        """True when every citation names a read source and every quote was found."""
        return not self.problems


class ResearchReport(StopEvent):
    """The result of `ResearchWorkflow.run(query)`: the checked answer and its sources.

    `answer_markdown` cites only sources that were read: a marker naming any other number
    is taken out by the citation check, and claims that failed are marked (or removed) and
    listed in `unverified`.
    """

    query: str
    """The question researched."""
    answer_markdown: str
    """The report, as markdown with `[n]` citations."""
    claims: list[Claim] = Field(default_factory=list)
    """The claims that passed the check."""
    sources: list[Source] = Field(default_factory=list)
    """Every source that was read, by id."""
    unverified: list[Claim] = Field(default_factory=list)
    """Claims that failed the check, each with its `problems`."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens the run's LLM calls used."""
    rounds: int = 0
    """Search-and-read rounds run."""
    plan: ResearchPlan | None = None
    """The plan the run followed (after the human's edits, if any)."""
    uncited: bool = False
    """True when the writer had notes to cite and its final draft still cites none (after
    `max_citation_retries` rewrites): nothing in `answer_markdown` was checked."""
    warnings: list[str] = Field(default_factory=list)
    """What a person should know about the report (an uncited report says so here)."""

    def __str__(self) -> str:
        """The report's text, so that `print(await workflow.run(...))` prints the report."""
        return self.answer_markdown
