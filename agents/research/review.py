"""Reading a human's answer to `PlanReview`.

Two kinds of answer arrive: a `PlanReviewResponse` from code (approve, an edited plan,
feedback), and a plain `HumanResponseEvent(response="...")` from a console such as
`agentflow run`, read as text: empty, "y", "yes", "ok" approve; "n", "no", "stop" reject;
a JSON object is an edited plan (`{"sub_questions": [...]}`); anything else is feedback.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from agentflow.events import Event
from agents.research.events import PlanReviewResponse
from agents.research.report import ResearchPlan

_YES = frozenset({"", "y", "yes", "ok", "okay", "approve", "approved", "go", "run"})
_NO = frozenset({"n", "no", "stop", "reject", "cancel", "abort"})


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    """What the human decided."""

    approved: bool = False
    """Run the plan (the edited one, when `plan` is set)."""
    rejected: bool = False
    """Stop the run."""
    plan: ResearchPlan | None = None
    """An edited plan."""
    feedback: str | None = None
    """What the LLM should change."""
    error: str | None = None
    """Why the answer could not be used (shown with the plan again)."""


def read_review(answer: Event) -> ReviewDecision:
    """The decision in `answer` (a `PlanReviewResponse`, or any event with `response`)."""
    if isinstance(answer, PlanReviewResponse):
        feedback = (answer.feedback or "").strip() or None
        if feedback is not None:
            return ReviewDecision(plan=answer.plan, feedback=feedback)
        if not answer.approved and answer.plan is None:
            return ReviewDecision(rejected=True)
        return ReviewDecision(approved=True, plan=answer.plan)
    text = str(answer.get("response") or "").strip()
    if text.casefold() in _YES:
        return ReviewDecision(approved=True)
    if text.casefold() in _NO:
        return ReviewDecision(rejected=True)
    if text.startswith("{"):
        try:
            return ReviewDecision(approved=True, plan=ResearchPlan.model_validate_json(text))
        except ValidationError as error:
            return ReviewDecision(error=f"that JSON is not a plan: {error.errors()[0]['msg']}")
    return ReviewDecision(feedback=text)


def review_prompt(plan: ResearchPlan, note: str = "") -> str:
    """The `PlanReview.prefix` a console shows: `note` (why the last answer was not
    taken), the plan, and the answers it accepts."""
    head = f"{note}\n" if note else ""
    return (
        f"{head}Research plan:\n{plan.render()}\n"
        "Press Enter (or type yes) to run it, type what to change, paste a JSON plan, "
        "or type no to stop: "
    )
