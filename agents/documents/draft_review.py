"""`DraftReview`: the last part of `ExtractionWorkflow`, from the candidates to the result.

```
 MergeRequest ─> merge (candidates per field, corrections laid over) ─> DraftReady ─> review
                   ^                                       ReviewRequired ⇄ ReviewResponse │
                   └── corrections only: MergeRequest      (a human, when review= says so) │
                       feedback: ChunkRequest again, for the fields it names               │
                                                             finalize <─ ReviewDone ───────┘
                                                                │ approved, or no review
                                                   StopEvent(ExtractionResult)
```

A base class of `ExtractionWorkflow`, as `DocumentIntake` is, to keep each module to one
concern: the merge, review and finalize steps and the methods they call (`merge_fields`,
`review_reasons`, `needs_review`, `field_warnings`). The rules themselves are in
`merge.py` and `review.py`.
"""

from __future__ import annotations

from typing import Any, Literal

from agentflow import Context, step
from agentflow.events import HumanResponseEvent, StopEvent
from agents.documents.errors import IncompleteExtractionError, RunStateError, SchemaMismatch
from agents.documents.events import (
    ChunkRequest,
    DraftReady,
    MergeRequest,
    ReviewDone,
    ReviewRequired,
    ReviewResponse,
    answer_as,
)
from agents.documents.evidence import Candidate
from agents.documents.fields import FieldSpec
from agents.documents.intake import DocumentIntake
from agents.documents.merge import corrected, draft_data, merge_candidates
from agents.documents.result import ExtractionResult, FieldEvidence, ModelT
from agents.documents.review import apply_review, field_warnings, review_reasons
from agents.documents.run_state import ExtractionState, ExtractionWorkflowState
from agents.documents.schemas import ExtractionSchema

ReviewMode = Literal["never", "always", "low_confidence"]
"""When a human reviews the draft: never, always, or when it has fields to look at."""


class DraftReview(DocumentIntake[ModelT]):
    """The merge, review and finalize steps of `ExtractionWorkflow` (not run on its own)."""

    review_timeout: float | None = None
    """Seconds a review may take (then the step fails); None waits as long as the run may."""
    target: ExtractionSchema | None
    """The schema to fill, as the pipeline uses it (set by `ExtractionWorkflow.__init__`;
    None when each run brings its own, see `run_schema`)."""
    review_mode: ReviewMode
    """When a human reviews the draft (set by `ExtractionWorkflow.__init__`)."""
    confidence_threshold: float
    """With review="low_confidence", fields below this confidence call for a review (set by
    `ExtractionWorkflow.__init__`)."""
    files_are_copies: bool
    """Whether a run's files are copies of one document (set by
    `ExtractionWorkflow.__init__`)."""

    # -- steps --------------------------------------------------------------------------

    @step
    async def merge(self, ctx: Context[ExtractionWorkflowState], ev: MergeRequest) -> DraftReady:
        """Merge the candidates per field and lay the reviewer's corrections over them."""
        schema = await self.run_schema(ctx)
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            fields = self.merge_fields(run.candidates, schema.specs)
            for name, value in run.corrections.items():
                fields[name] = corrected(value)
        return DraftReady(data=draft_data(fields), fields=fields)

    @step
    async def review(
        self, ctx: Context[ExtractionWorkflowState], ev: DraftReady
    ) -> ReviewDone | MergeRequest | ChunkRequest | None:
        """Let a human approve, correct or send back the draft, when `review` says so.

        The wait is `ctx.wait_for_event`, so it is saved with the context: a run saved
        while waiting resumes here, showing the same draft again."""
        schema = await self.run_schema(ctx)
        reasons = self.review_reasons(ev.fields, schema.specs)
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            if not self.needs_review(run, reasons):
                return ReviewDone(data=ev.data, fields=ev.fields)
            asking = ReviewRequired(
                data=ev.data,
                fields=ev.fields,
                reasons=reasons,
                problems=run.problems,
                review=run.reviews + 1,
                prefix="Approve the extracted data, or give corrections or feedback: ",
            )
        # Any HumanResponseEvent: a ReviewResponse from code, or a console's line of text.
        response = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=asking, timeout=self.review_timeout
        )
        answer = answer_as(response, ReviewResponse)
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            run.reviews += 1
            if isinstance(answer, str):  # the answer to another question: ask again
                run.problems = [answer]
                return MergeRequest(round=run.round)
            run.problems = []
            refetch = apply_review(run, answer, schema.specs)
            if answer.approved and not run.problems:
                fields = dict(ev.fields)
                for name, value in run.corrections.items():
                    fields[name] = corrected(value)
                return ReviewDone(data=draft_data(fields), fields=fields)
            if not refetch or not run.chunks:
                return MergeRequest(round=run.round)
            # Feedback: extract the fields it names again, with it, from every chunk.
            previous = {name: ev.data.get(name) for name in refetch}
            run.round += 1
            run.answered = {}
            run.candidates = [c for c in run.candidates if c.field not in refetch]
            requests = [
                ChunkRequest(
                    chunk=piece,
                    round=run.round,
                    fields=refetch,
                    feedback=answer.feedback,
                    previous=previous,
                )
                for piece in run.chunks
            ]
        for request in requests:
            ctx.send_event(request)
        return None

    @step
    async def finalize(self, ctx: Context[ExtractionWorkflowState], ev: ReviewDone) -> StopEvent:
        """Validate the data as the schema; the result, with the evidence and warnings."""
        schema = await self.run_schema(ctx)
        async with ctx.store.edit_state() as state:
            run, usage = state.current_run(), state.run_usage()
        failed = {r.file: r.reason or "" for r in run.files if r.status == "failed"}
        try:
            data = schema.validated(ev.data)
        except SchemaMismatch as error:
            raise IncompleteExtractionError(
                schema.source, error.problems, ev.data, ev.fields, failed, run.failed_chunks
            ) from error
        # Parametrized for a dict: unparametrized, pydantic would make the dict a bare
        # BaseModel (the type variable's first bound).
        kind: type[ExtractionResult[Any]] = (
            ExtractionResult[dict[str, Any]] if isinstance(data, dict) else ExtractionResult
        )
        result: ExtractionResult[ModelT] = kind(
            data=data,
            fields=ev.fields,
            files=run.files,
            usage=usage,
            warnings=[*run.warnings, *self.field_warnings(ev.fields)],
            reviews=run.reviews,
        )
        return StopEvent(result=result)

    # -- pieces the steps call; override to change one behaviour -------------------------

    async def run_schema(self, ctx: Context[ExtractionWorkflowState]) -> ExtractionSchema:
        """The schema the current run fills: the workflow's own (`schema=`). A workflow
        whose runs bring their own (`SchemaProposalWorkflow`: the one its human approved)
        overrides this."""
        if self.target is None:
            raise RunStateError(f"{type(self).__name__} was built without a schema")
        return self.target

    def merge_fields(
        self, candidates: list[Candidate], specs: dict[str, FieldSpec]
    ) -> dict[str, FieldEvidence]:
        """One `FieldEvidence` per field of `specs` (the run's schema's) from every chunk's
        candidates (see `agents.documents.merge`). Override to merge differently, e.g. to
        add up amounts."""
        return merge_candidates(candidates, specs, self.files_are_copies)

    def review_reasons(
        self, fields: dict[str, FieldEvidence], specs: dict[str, FieldSpec]
    ) -> list[str]:
        """What in the draft a person should look at (`review.review_reasons`)."""
        return review_reasons(fields, specs, self.confidence_threshold)

    def needs_review(self, state: ExtractionState, reasons: list[str]) -> bool:
        """Whether this draft goes to a human: always, never, or when there are reasons
        (low_confidence); once a human has answered, until they approve."""
        if self.review_mode == "never":
            return False
        return self.review_mode == "always" or bool(reasons) or state.reviews > 0

    def field_warnings(self, fields: dict[str, FieldEvidence]) -> list[str]:
        """The warnings the final evidence calls for (`review.field_warnings`)."""
        return field_warnings(fields)
