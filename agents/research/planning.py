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
it holds the three planning steps, the LLM calls they make, and the run's state access that
every step shares. Override any of them in a `ResearchWorkflow` subclass as usual.
"""

from __future__ import annotations

from typing import Any

from agentflow import Context, Workflow, step
from agentflow.events import HumanResponseEvent
from agents.llm.metered import MeteredLLM, ledger_total
from agents.llm.protocol import LLM
from agents.llm.types import Usage
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
from agents.research.run_state import ResearchState


class ResearchPlanning(Workflow[ResearchReport]):
    """The plan and review steps of `ResearchWorkflow` (not run on its own), which gives a
    `ResearchReport`."""

    state_key = "research"
    """The state key of the run's `ResearchState`."""
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

    # -- steps --------------------------------------------------------------------------

    @step
    async def plan(self, ctx: Context[Any], ev: ResearchStart) -> PlanDrafted:
        """Start the run's state and ask the LLM for sub-questions and their queries."""
        state = ResearchState(query=ev.query, usage_before=await self.ledger_total(ctx))
        await self.save_state(ctx, state)
        plan = await self.make_plan(ctx, ev.query)
        ctx.write_event_to_stream(PlanCreated(plan=plan))
        return PlanDrafted(plan=plan)

    @step
    async def review(
        self, ctx: Context[Any], ev: PlanDrafted
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
        state = await self.get_state(ctx)
        state.plan = plan
        await self.save_state(ctx, state)
        return RoundStart(round=1, sub_questions=plan.sub_questions)

    @step
    async def revise(self, ctx: Context[Any], ev: PlanRevisionRequested) -> PlanDrafted:
        """Have the LLM revise the plan after a human's feedback, and show it again."""
        state = await self.get_state(ctx)
        plan = await self.revise_plan(ctx, state.query, ev.plan, ev.feedback)
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
        self, ctx: Context[Any], draft: PlanDrafted
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
            query = (await self.get_state(ctx)).query
            raise PlanError(f"the plan for {query!r} was rejected in review")
        if decision.approved:
            return plan
        if decision.feedback:
            note = f"no more revisions ({self.max_plan_revisions} made): approve or edit"
        return PlanDrafted(plan=plan, revision=revision, note=note)

    async def get_state(self, ctx: Context[Any]) -> ResearchState:
        """The current run's state (set by `plan`)."""
        state = await ctx.store.get(self.state_key, default=None)
        if not isinstance(state, ResearchState):
            raise TypeError(
                f"ResearchWorkflow: state key '{self.state_key}' holds "
                f"{type(state).__name__}, not a ResearchState; was the run started with query=?"
            )
        return state

    async def save_state(self, ctx: Context[Any], state: ResearchState) -> None:
        """Store the run's state."""
        await ctx.store.set(self.state_key, state)

    async def ledger_total(self, ctx: Context[Any]) -> Usage:
        """The total usage booked in the context's ledger so far."""
        return await ledger_total(ctx)
