"""`ResearchPlanning`: the first part of `ResearchWorkflow`, the plan and its review.

```
 ResearchStart ─> plan ─> PlanDrafted ─> review ─> RoundStart(round=1)   (then workflow.py)
                    │ LLM: ResearchPlan   ^    │ review_plan=True: PlanReview ⇄ human, one
                    v                     │    │ answer per execution
               PlanCreated                │    │ feedback: PlanRevisionRequested
                                          │    v
                                 PlanDrafted <─ revise (LLM: revise_plan) ─> PlanCreated
```

PlanCreated (revision n) is streamed for each change. The revision is a step of its own so
that a durable run journals it: a run that crashes while the revised plan waits for its
review shows that plan again on resume instead of asking the LLM for it again.

A base class of `ResearchWorkflow` only to keep each module to one screenful of concern:
it holds the three planning steps, the LLM calls they make, and `run()`'s input (the
question). Every step edits the run's state in place under `ctx.store.edit_state()` (a
`ResearchWorkflowState`). Override any of them in a `ResearchWorkflow` subclass as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, overload

from agentflow import Context, step
from agentflow.events import HumanResponseEvent, StartEvent
from agentflow.handler import WorkflowHandler
from agents.kit.workflow import PrebuiltWorkflow
from agents.llm.metered import MeteredLLM
from agents.llm.protocol import LLM
from agents.research import prompts
from agents.research.errors import PlanError
from agents.research.events import (
    PlanCreated,
    PlanDrafted,
    PlanReview,
    PlanRevisionRequested,
    ResearchStart,
    RoundStart,
)
from agents.research.report import ResearchPlan, ResearchReport
from agents.research.review import read_review, review_prompt
from agents.research.run_state import ResearchState, ResearchWorkflowState


class ResearchPlanning(PrebuiltWorkflow[ResearchReport]):
    """The plan and review steps of `ResearchWorkflow` (not run on its own), which gives a
    `ResearchReport`."""

    run_inputs: ClassVar[tuple[str, ...]] = ("query",)
    """`run("...")` is `run(query="...")`."""
    max_sub_questions = 4
    """Sub-questions the LLM may plan, and name as gaps, at most."""
    queries_per_question = 2
    """Search queries per sub-question the LLM may plan."""
    max_plan_revisions = 3
    """Times a human's feedback may send the plan back to the LLM."""
    review_timeout: float | None = None
    """Seconds the plan waits for its review; None waits as long as the run may last."""
    llm: LLM
    """The chat model (set by `ResearchWorkflow.__init__`)."""
    review_plan: bool = False
    """Whether the plan waits for a human (`PlanReview`) before searching."""

    max_parallel: int
    """Searches and reads of one run at the same time, at most (set by
    `ResearchWorkflow.__init__`)."""

    @property
    def per_run_limit(self) -> int:
        """The bound of the run's `RunLimit`: `max_parallel`."""
        return self.max_parallel

    def start_fields(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Research `query` (`run("...")` or `run(query="...")`); awaiting the handler
        gives the `ResearchReport`. Without one, a `ctx` holding an unfinished run resumes
        it."""
        query = arguments.get("query")
        if query is not None and not query.strip():
            raise ValueError("ResearchWorkflow.run: query is empty; pass the question")
        if query is None:
            arguments.pop("query", None)
        return arguments

    if TYPE_CHECKING:  # the kit's run(), typed for research

        @overload
        def run(
            self,
            ctx: Context[Any] | None = None,
            start_event: StartEvent | None = None,
            *,
            query: str | None = None,
            **kwargs: Any,
        ) -> WorkflowHandler[ResearchReport]: ...

        @overload
        def run(
            self,
            query: str,
            *,
            ctx: Context[Any] | None = None,
            start_event: StartEvent | None = None,
            **kwargs: Any,
        ) -> WorkflowHandler[ResearchReport]: ...

        def run(self, *args: Any, **kwargs: Any) -> WorkflowHandler[ResearchReport]: ...

    # -- steps --------------------------------------------------------------------------

    @step
    async def plan(self, ctx: Context[ResearchWorkflowState], ev: ResearchStart) -> PlanDrafted:
        """Start the run's state and ask the LLM for sub-questions and their queries."""
        async with ctx.store.edit_state() as state:
            state.begin_run(ResearchState(query=ev.query))
        plan = await self.make_plan(ctx, ev.query)
        ctx.write_event_to_stream(PlanCreated(plan=plan))
        return PlanDrafted(plan=plan)

    @step
    async def review(
        self, ctx: Context[ResearchWorkflowState], ev: PlanDrafted
    ) -> RoundStart | PlanDrafted | PlanRevisionRequested:
        """With `review_plan`, let a human approve, edit or send back the plan (one answer
        per execution: feedback goes to `revise`, an answer that settles nothing shows the
        plan again); then start round 1 with it."""
        plan = ev.plan
        if self.review_plan:
            outcome = await self.ask_review(ctx, ev)
            if not isinstance(outcome, ResearchPlan):
                return outcome
            plan = outcome
        plan = plan.searchable()
        async with ctx.store.edit_state() as state:
            state.current_run().plan = plan
        return RoundStart(round=1, sub_questions=plan.sub_questions)

    @step
    async def revise(
        self, ctx: Context[ResearchWorkflowState], ev: PlanRevisionRequested
    ) -> PlanDrafted:
        """Have the LLM revise the plan after a human's feedback, and show it again."""
        plan = await self.revise_plan(ctx, await self.run_query(ctx), ev.plan, ev.feedback)
        revision = ev.revision + 1
        ctx.write_event_to_stream(PlanCreated(plan=plan, revision=revision))
        return PlanDrafted(plan=plan, revision=revision, note=ev.note)

    # -- the LLM calls and the state; override to change one behaviour ------------------

    async def make_plan(self, ctx: Context[Any], query: str) -> ResearchPlan:
        """The LLM's plan for `query`, cut to `max_sub_questions` and
        `queries_per_question`."""
        messages = prompts.plan_messages(query, self.max_sub_questions, self.queries_per_question)
        plan = await MeteredLLM(self.llm, ctx).astructured_predict(
            ResearchPlan, messages, once="plan"
        )
        return plan.capped(self.max_sub_questions, self.queries_per_question)

    async def revise_plan(
        self, ctx: Context[Any], query: str, plan: ResearchPlan, feedback: str
    ) -> ResearchPlan:
        """The LLM's plan revised after a human's `feedback`."""
        messages = prompts.plan_messages(
            query, self.max_sub_questions, self.queries_per_question, plan, feedback
        )
        revised = await MeteredLLM(self.llm, ctx).astructured_predict(
            ResearchPlan, messages, once="revised plan"
        )
        return revised.capped(self.max_sub_questions, self.queries_per_question)

    async def ask_review(
        self, ctx: Context[ResearchWorkflowState], draft: PlanDrafted
    ) -> ResearchPlan | PlanDrafted | PlanRevisionRequested:
        """Show `draft` (`PlanReview`) and wait for one answer: approval returns the plan,
        an edited plan replaces it, feedback asks `revise` for a revision (at most
        `max_plan_revisions` changes in all), and anything else shows the plan again (a
        `PlanDrafted`, with a note saying why). A rejection raises `PlanError`.

        The wait is `ctx.wait_for_event`, so a run saved while waiting resumes here."""
        answer = await ctx.wait_for_event(
            HumanResponseEvent,
            waiter_event=PlanReview(plan=draft.plan, prefix=review_prompt(draft.plan, draft.note)),
            timeout=self.review_timeout,
        )
        decision = read_review(answer)
        plan, revision, note = draft.plan, draft.revision, decision.error or ""
        if decision.plan is not None:
            plan = decision.plan
            revision += 1
            ctx.write_event_to_stream(PlanCreated(plan=plan, revision=revision))
        if decision.feedback and revision < self.max_plan_revisions:
            return PlanRevisionRequested(
                plan=plan, feedback=decision.feedback, revision=revision, note=note
            )
        if decision.rejected:
            query = await self.run_query(ctx)
            raise PlanError(f"the plan for {query!r} was rejected in review")
        if decision.approved:
            return plan
        if decision.feedback:
            note = f"no more revisions ({self.max_plan_revisions} made): approve or edit"
        return PlanDrafted(plan=plan, revision=revision, note=note)

    async def run_query(self, ctx: Context[ResearchWorkflowState]) -> str:
        """The question the run researches."""
        async with ctx.store.edit_state() as state:
            return state.current_run().query
