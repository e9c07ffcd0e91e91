"""`ResearchWriting`: the last part of `ResearchWorkflow`, the report and its check.

```
 WriteRequest ─> write (ReportDelta) ─> DraftWritten ─> check (citations, in code) ─> ResearchReport
                   ^                                      │
                   └── cites nothing, notes read, retries left (RewriteRequested;
                       WriteRequest with the draft)
```

A base class of `ResearchWorkflow`, as `ResearchPlanning` is, to keep each module to one
concern: the two writing steps and the prompts they send. A draft that cites no source,
though notes were read (small models write plain prose), is not passed as checked: `check`
sends it back to `write` with a request to cite, at most `max_citation_retries` times, and
the report of a final draft still citing nothing is `uncited`, with a warning.
"""

from __future__ import annotations

import warnings

import openai

from agentflow import Context, step
from agents.llm.errors import LLMError, LLMRefusalError
from agents.llm.metered import MeteredLLM
from agents.llm.types import ChatMessage
from agents.research import prompts
from agents.research.citations import UnverifiedPolicy, check_citations
from agents.research.errors import EmptyReportError, ResearchWarning
from agents.research.events import (
    CitationsChecked,
    DraftWritten,
    ReportDelta,
    RewriteRequested,
    WriteRequest,
)
from agents.research.planning import ResearchPlanning
from agents.research.report import ResearchReport
from agents.research.run_state import ResearchState, ResearchWorkflowState
from agents.streamed_text import ReplyText


class ResearchWriting(ResearchPlanning):
    """The write and check steps of `ResearchWorkflow` (not run on its own)."""

    unverified_policy: UnverifiedPolicy = "mark"
    """"mark": a failed claim stays, marked `[unverified]`; "remove": it is taken out."""
    no_sources_answer = "No source could be read for this question, so it is not answered."
    """The report when nothing was read (the LLM is then not asked to write)."""
    no_notes_answer = (
        "Sources read: {count}. None gave a note on this question with a quote found in the "
        "source, so it is not answered."
    )
    """The report when sources were read but none kept a note (judged irrelevant, or every
    quote not found in its source); `{count}` is the number read. The LLM is not asked."""

    max_citation_retries = 1
    """Rewrites asked, at most, of a draft that cites no source while notes were read (the
    constructor's `max_citation_retries`)."""

    @step
    async def write(self, ctx: Context[ResearchWorkflowState], ev: WriteRequest) -> DraftWritten:
        """Stream the report from the notes, one `ReportDelta` per chunk; for a rewrite
        (`ev.uncited_draft`), with the draft and the request to cite. A refusal raises
        `LLMRefusalError`, a reply with no text `EmptyReportError`: neither is a report."""
        async with ctx.store.edit_state() as current:
            # Read, not changed: no other step of the run goes on while this one writes.
            state = current.current_run()
        if not any(source.notes for source in state.sources):
            answer = (
                self.no_notes_answer.format(count=len(state.sources))
                if state.sources
                else self.no_sources_answer
            )
            ctx.write_event_to_stream(ReportDelta(delta=answer))
            return DraftWritten(markdown=answer)
        text = ReplyText()
        last = None
        llm = MeteredLLM(self.llm, ctx)
        messages = (
            self.write_prompt(state)
            if ev.uncited_draft is None
            else self.rewrite_prompt(state, ev.uncited_draft)
        )
        try:
            async for chunk in llm.astream_chat(messages):
                last = chunk
                if chunk.delta:
                    ctx.write_event_to_stream(ReportDelta.added_to(text, chunk.delta))
            if last is not None and last.message.refusal is not None:
                raise LLMRefusalError(last.message.refusal)
            markdown = str(text)
            if not markdown.strip():
                finish_reason = last.finish_reason if last is not None else None
                raise EmptyReportError(self.llm.metadata.model, finish_reason)
        except (LLMError, openai.APIError) as error:
            if ev.uncited_draft is None:
                raise
            # A rewrite is a second chance, not a new requirement: when it fails, the draft
            # it was asked to improve stands, and `check` reports that draft as uncited.
            warnings.warn(
                f"the rewrite asked for citations failed, the uncited draft stands: {error}",
                ResearchWarning,
                stacklevel=1,
            )
            return DraftWritten(markdown=ev.uncited_draft)
        return DraftWritten(markdown=markdown)

    @step
    async def check(
        self, ctx: Context[ResearchWorkflowState], ev: DraftWritten
    ) -> ResearchReport | WriteRequest:
        """Check every citation in code and build the report (see `citations.py`). A draft
        that cites no source while notes were read goes back to `write` (a `WriteRequest`
        with the draft) up to `max_citation_retries` times, then is reported `uncited`."""
        async with ctx.store.edit_state() as current:
            state, usage = current.current_run(), current.run_usage()
            texts = {source.id: source.text for source in state.sources}
            checked = check_citations(ev.markdown, texts, self.unverified_policy)
            # The canned answers (no notes) cite nothing by design and are never re-asked.
            uncited = not (checked.claims or checked.unverified) and any(
                source.notes for source in state.sources
            )
            retry = uncited and state.citation_retries < self.max_citation_retries
            if retry:
                state.citation_retries += 1
        if retry:
            ctx.write_event_to_stream(
                RewriteRequested(
                    attempt=state.citation_retries,
                    reason="the draft cites no source, though notes were read",
                    draft=ev.markdown,
                )
            )
            return WriteRequest(rounds=state.round, uncited_draft=ev.markdown)
        report_warnings = []
        if uncited:
            report_warnings.append(
                "the report cites no source, so none of its sentences was checked "
                f"(rewrites asked: {state.citation_retries})"
            )
            warnings.warn(report_warnings[-1], ResearchWarning, stacklevel=1)
        ctx.write_event_to_stream(
            CitationsChecked(
                verified=len(checked.claims),
                unverified=len(checked.unverified),
                removed_citations=checked.removed_citations,
            )
        )
        return ResearchReport(
            query=state.query,
            answer_markdown=checked.markdown,
            claims=checked.claims,
            sources=[source.to_source() for source in state.sources],
            unverified=checked.unverified,
            usage=usage,
            rounds=state.round,
            plan=state.plan,
            uncited=uncited,
            warnings=report_warnings,
        )

    def write_prompt(self, state: ResearchState) -> list[ChatMessage]:
        """The writer's messages: the question, and each source with notes, numbered."""
        return prompts.write_messages(state.query, state.sources)

    def rewrite_prompt(self, state: ResearchState, uncited_draft: str) -> list[ChatMessage]:
        """The writer's messages for a draft that cited nothing: `write_prompt`'s, the
        draft, and the request to cite each factual sentence."""
        return [*self.write_prompt(state), *prompts.rewrite_turns(uncited_draft)]
