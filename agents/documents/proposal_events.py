"""The events of a `SchemaProposalWorkflow` run before its extraction starts.

On the stream: `SchemaProposed` when a proposal waits for a human (answer it with
`SchemaReview`), and `SchemaApproved` once one is approved; the extraction's own events
follow (`agents.documents.events`). Between steps only:

```
ProposalStart ─ plan ─> ProposalRequest ─ propose ─> SchemaDrafted ─ review_schema
                            ^     └─ an unusable reply: ProposalRequest again, with the error
                            └──── feedback ────────────────────────────┘
   review_schema ─ approved ─> SchemaApproved, then the extraction (LoadRequest, FileLoaded)
                 └─ an edit ─> SchemaDrafted (shown again)
```
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent
from agents.documents.events import ConsoleLine, ExtractionStart
from agents.llm.types import ChatMessage


class ProposalStart(ExtractionStart):
    """What `run(prompt, files=[...], documents=[...])` starts with."""

    prompt: str = ""
    """What to extract, in words: "the parties, dates and amounts of this lease"."""


class ProposalRequest(Event):
    """Ask the LLM for a schema (again, with a human's feedback, or after an unusable
    reply)."""

    feedback: list[str] = Field(default_factory=list)
    """A human's feedback so far, in words, oldest first (the last is about `previous`);
    empty for the first proposal."""
    previous: dict[str, Any] | None = None
    """The latest proposal, which the last feedback is about."""
    reasks: list[ChatMessage] = Field(default_factory=list)
    """The unusable replies so far, each followed by what was wrong with it: every attempt
    is a `propose` execution of its own, so a durable run never asks for one twice."""

    @property
    def attempt(self) -> int:
        """Which attempt at this proposal this request is (1 for the first)."""
        return len(self.reasks) // 2 + 1


class SchemaDrafted(Event):
    """A usable schema, for a human to judge."""

    json_schema: dict[str, Any]
    """The JSON schema (checked: valid, an object of fields, strict-expressible)."""
    problems: list[str] = Field(default_factory=list)
    """What was wrong with the human's last answer (an edit that could not be used)."""


class SchemaProposed(InputRequiredEvent):
    """A proposed schema waits for a human: answer with `SchemaReview`."""

    json_schema: dict[str, Any]
    """The JSON schema: the LLM's proposal (a description on every field), or a human's
    edit shown again."""
    problems: list[str] = Field(default_factory=list)
    """What was wrong with the previous answer (an edited schema that could not be used)."""
    proposal: int = 1
    """1 for the first proposal shown in the run, then 2, 3, ..."""
    prefix: str = ""
    """The prompt a console shows."""


class SchemaReview(HumanResponseEvent):
    """A human's answer to `SchemaProposed`. A plain `HumanResponseEvent(response=...)`
    (from a console such as `agentflow run`) is read as one with `from_text`."""

    approved: bool = False
    """True to extract with the proposal (or with `json_schema`, when given)."""
    json_schema: dict[str, Any] | None = None
    """An edited schema: used at once with `approved`, else shown again."""
    feedback: str = ""
    """What to change, in words: sent to the LLM with the proposal, for a new one."""

    @property
    def wants_revision(self) -> bool:
        """Whether the answer asks the LLM for another proposal (feedback alone)."""
        return bool(self.feedback.strip()) and not self.approved and self.json_schema is None

    def contradiction(self) -> str | None:
        """What makes the answer unusable as it stands (fields that contradict each other,
        or none given), for the human to see; None when it is one clear answer."""
        if self.feedback.strip() and self.approved:
            return "feedback= asks for a new proposal and approved=True accepts this one: give one"
        if self.feedback.strip() and self.json_schema is not None:
            return "json_schema= (an edit) and feedback= were both given: give one of them"
        if not (self.approved or self.json_schema is not None or self.feedback.strip()):
            return "the answer neither approves, edits (json_schema=) nor gives feedback="
        return None

    @classmethod
    def from_text(cls, text: str) -> SchemaReview:
        """A console line as an answer: empty, "y", "yes", "ok" approve; a JSON object is an
        edited schema (shown again); anything else is feedback."""
        line = ConsoleLine.read(text)
        if line.approves:
            return cls(approved=True)
        if line.json_object is not None:
            return cls(json_schema=line.json_object)
        return cls(feedback=line.text)


class SchemaApproved(Event):
    """The schema the run extracts with, as approved (on the stream)."""

    json_schema: dict[str, Any]
    """The approved JSON schema."""
