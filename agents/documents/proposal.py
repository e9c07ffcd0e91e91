"""`SchemaProposalWorkflow`: the schema comes from a prompt, a human approves it, then the
extraction runs with it, in the same run.

```python
workflow = SchemaProposalWorkflow(llm=OpenAI("gpt-4o-mini"), review="low_confidence")
handler = workflow.run("the parties, dates and amounts of this lease", files=["lease.pdf"])
async for ev in handler.stream_events():
    if isinstance(ev, SchemaProposed):       # ev.json_schema: a description on every field
        handler.ctx.send_event(SchemaReview(approved=True))   # or feedback=..., json_schema=...
result = await handler                       # an ExtractionResult; result.data is a dict
```

```
 run(prompt, files) ─> plan ─ ProposalRequest ─> propose ─ SchemaDrafted ─> review_schema
   (reads the inputs,         ^   (the LLM, structured;      (SchemaProposed ⇄ SchemaReview)
    takes their first chunks  │    an unusable schema goes       │  feedback: ProposalRequest
    within proposal_tokens)   │    back with the error, up to    │  an edit: SchemaDrafted
                              │    max_proposal_attempts)        │  approved: SchemaApproved,
                              └──────────── feedback ────────────┘  then ExtractionWorkflow's
                                                                      load ─ chunk ─ extract ...
```

A workflow of its own rather than a mode of `ExtractionWorkflow`: its run takes a prompt
and no schema, its first step is another, and it has two more; everything after the
approval is `ExtractionWorkflow`'s (it is a subclass), with the approved schema as a JSON
Schema `schema=` would be (`run_schema`). The approved schema, the proposal's inputs and
the wait are in the context, so a run waiting for the approval is saved with
`ctx.to_dict()` and resumed with `Context.from_dict` in another process, or journalled by a
store and resumed after a crash, as the extraction's own review is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast, overload

from agentflow import Context, step
from agentflow.events import HumanResponseEvent, StartEvent
from agentflow.handler import WorkflowHandler
from agents.documents.chunking import Chunk, chunk_document
from agents.documents.errors import (
    NoReadableInputError,
    ProposalBudgetError,
    RunStateError,
    SchemaNotSupportedError,
    SchemaProposalError,
    UnreadableFileError,
)
from agents.documents.events import FileLoaded, LoadRequest, answer_as
from agents.documents.intake import input_reports
from agents.documents.json_schema import JsonSchema, check_json_schema
from agents.documents.loading import SourceDocument, documents_from_texts
from agents.documents.proposal_events import (
    ProposalRequest,
    ProposalStart,
    SchemaApproved,
    SchemaDrafted,
    SchemaProposed,
    SchemaReview,
)
from agents.documents.proposal_prompts import (
    PROPOSAL_PROMPT,
    SchemaProposal,
    document_excerpt,
    proposal_messages,
    undescribed_fields,
    unusable_reply_messages,
)
from agents.documents.result import ExtractionResult
from agents.documents.run_state import ExtractionState, ExtractionWorkflowState, ProposalState
from agents.documents.schemas import ExtractionSchema
from agents.documents.workflow import ExtractionWorkflow
from agents.llm.errors import StructuredOutputError
from agents.llm.protocol import LLM
from agents.llm.types import ChatMessage
from tools.threads import run_in_thread

_UNUSABLE = (ValueError, SchemaNotSupportedError)
"""What a schema that cannot be used raises: not JSON, not a valid JSON Schema, not strict-
expressible (ValueErrors), or not an object of fields."""

_REPLY_FORMAT = ChatMessage.system(json.dumps(SchemaProposal.model_json_schema()))
"""The reply's schema as the request carries it (`response_format`), for counting."""


class SchemaProposalWorkflow(ExtractionWorkflow[dict[str, Any]]):
    """Propose a JSON schema from a prompt and the documents, let a human approve, edit or
    send it back with feedback, then extract with it: `await workflow.run(prompt,
    files=[...])` gives an `ExtractionResult` whose `data` is a dict."""

    schema_from_run: ClassVar[bool] = True
    run_inputs: ClassVar[tuple[str, ...]] = ("prompt", "files")
    """`run("the parties of this lease", ["lease.pdf"])` is `run(prompt=..., files=[...])`."""

    def __init__(
        self,
        llm: LLM | None = None,
        proposal_tokens: int = 3000,
        max_proposal_attempts: int = 3,
        proposal_prompt: str = PROPOSAL_PROMPT,
        **extraction_kwargs: Any,
    ) -> None:
        """`proposal_tokens` bounds the proposal request (instructions, prompt and the
        documents' opening, counted by the LLM); `max_proposal_attempts` is how many replies
        one proposal may take before `SchemaProposalError`, each unusable one sent back
        with what was wrong. The rest are `ExtractionWorkflow`'s, but `schema`."""
        if "schema" in extraction_kwargs:
            raise TypeError(
                "SchemaProposalWorkflow proposes its schema; for a schema written in advance "
                "use ExtractionWorkflow(schema=...)"
            )
        super().__init__(llm=llm, **extraction_kwargs)
        if max_proposal_attempts < 1:
            raise ValueError(
                f"max_proposal_attempts must be at least 1, got {max_proposal_attempts}"
            )
        if proposal_tokens < 1:
            raise ValueError(f"proposal_tokens must be at least 1, got {proposal_tokens}")
        self.proposal_tokens = proposal_tokens
        """Most tokens the proposal request may read."""
        self.max_proposal_attempts = max_proposal_attempts
        """Replies one proposal may take."""
        self.proposal_prompt = proposal_prompt
        """The proposal's instructions."""

    def start_fields(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """`prompt` (what to extract, in words) besides `ExtractionWorkflow`'s inputs."""
        prompt = arguments.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise TypeError(f"prompt= takes a str, got {type(prompt).__name__}")
        return super().start_fields(arguments)

    if TYPE_CHECKING:  # run()'s inputs as this workflow takes them: the prompt first

        @overload  # type: ignore[override]  # the prompt comes first, then the files
        def run(
            self,
            ctx: Context[Any] | None = None,
            start_event: StartEvent | None = None,
            *,
            prompt: str | None = None,
            files: Sequence[str | Path] | None = None,
            documents: Sequence[Any] | None = None,
            **kwargs: Any,
        ) -> WorkflowHandler[ExtractionResult[dict[str, Any]]]: ...

        @overload
        def run(
            self,
            prompt: str,
            files: Sequence[str | Path] | None = None,
            *,
            documents: Sequence[Any] | None = None,
            ctx: Context[Any] | None = None,
            start_event: StartEvent | None = None,
            **kwargs: Any,
        ) -> WorkflowHandler[ExtractionResult[dict[str, Any]]]: ...

        def run(
            self, *args: Any, **kwargs: Any
        ) -> WorkflowHandler[ExtractionResult[dict[str, Any]]]: ...

    # -- steps --------------------------------------------------------------------------

    @step
    async def plan(  # type: ignore[override]  # the run starts with a prompt, not a schema
        self, ctx: Context[ExtractionWorkflowState], ev: ProposalStart
    ) -> ProposalRequest:
        """Read the inputs and keep their opening for the proposal; ask for one."""
        given = documents_from_texts(ev.documents)
        if not ev.files and not given:
            raise ValueError("SchemaProposalWorkflow.run() needs files=[...] or documents=[...]")
        if not ev.prompt.strip():
            raise ValueError("SchemaProposalWorkflow.run() needs a prompt: what to extract")
        read, failed = await run_in_thread(self._readable, ev.files)
        documents = [*read, *given]
        if not documents:
            raise NoReadableInputError(failed)
        excerpts = await run_in_thread(self.excerpts, ev.prompt, documents)
        proposal = ProposalState(
            prompt=ev.prompt, excerpts=excerpts, files=ev.files, documents=ev.documents
        )
        async with ctx.store.edit_state() as state:
            files = input_reports(ev.files, given)
            state.begin_run(ExtractionState(files=files, proposal=proposal))
        return ProposalRequest()

    @step
    async def propose(
        self, ctx: Context[ExtractionWorkflowState], ev: ProposalRequest
    ) -> SchemaDrafted | ProposalRequest:
        """Ask the LLM for a schema; one that cannot be used comes back as the same request
        with the reply and what was wrong added (`reasks`), up to `max_proposal_attempts`."""
        async with ctx.store.edit_state() as state:
            proposal = _proposal_of(state.current_run())
        messages = self.proposal_request(proposal, ev)
        try:
            reply = await self.ask(ctx, SchemaProposal, messages)
        except StructuredOutputError as error:
            return self._ask_again(ev, error.last_reply, error.errors)
        proposed = cast(SchemaProposal, reply)  # ask() validated it as SchemaProposal
        try:
            schema = read_proposal(proposed.json_schema)
        except _UNUSABLE as error:
            return self._ask_again(ev, proposed.model_dump_json(), str(error))
        return SchemaDrafted(json_schema=schema)

    @step
    async def review_schema(
        self, ctx: Context[ExtractionWorkflowState], ev: SchemaDrafted
    ) -> SchemaDrafted | ProposalRequest | LoadRequest | FileLoaded | None:
        """Show the schema to a human (`SchemaProposed`) and act on the answer: approved,
        start the extraction with it; edited, show the edit; feedback, ask for another.

        The wait is `ctx.wait_for_event`, so it is saved with the context: a run saved
        while waiting resumes here, showing the same schema again."""
        async with ctx.store.edit_state() as state:
            shown = _proposal_of(state.current_run()).proposals + 1
        asking = SchemaProposed(
            json_schema=ev.json_schema,
            problems=ev.problems,
            proposal=shown,
            prefix="Approve the schema, or give an edited schema (JSON) or feedback: ",
        )
        response = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=asking, timeout=self.review_timeout
        )
        answer = answer_as(response, SchemaReview)
        problem = answer if isinstance(answer, str) else answer.contradiction()
        async with ctx.store.edit_state() as state:
            proposal = _proposal_of(state.current_run())
            proposal.proposals = shown
            if isinstance(answer, SchemaReview) and problem is None and answer.wants_revision:
                proposal.feedback.append(answer.feedback.strip())
                return ProposalRequest(feedback=list(proposal.feedback), previous=ev.json_schema)
        if problem is not None:
            return SchemaDrafted(json_schema=ev.json_schema, problems=[problem])
        answer = cast(SchemaReview, answer)  # a str is a problem, returned above
        approved = ev.json_schema
        if answer.json_schema is not None:
            try:
                usable_schema(answer.json_schema)
            except _UNUSABLE as error:
                problem = f"the edited schema was not used: {error}"
                return SchemaDrafted(json_schema=ev.json_schema, problems=[problem])
            if not answer.approved:
                return SchemaDrafted(json_schema=answer.json_schema)
            approved = answer.json_schema
        async with ctx.store.edit_state() as state:
            state.current_run().approved_schema = approved
        ctx.write_event_to_stream(SchemaApproved(json_schema=approved))
        self.send_inputs(ctx, proposal.files, documents_from_texts(proposal.documents))
        return None

    # -- pieces the steps call; override to change one behaviour -------------------------

    async def run_schema(self, ctx: Context[ExtractionWorkflowState]) -> ExtractionSchema:
        """The schema the run's human approved, checked once per run and kept with the
        run's state (not saved with it: a resumed run checks it again once)."""
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            if run.approved_schema is None:
                raise RunStateError("the run's extraction started before its schema was approved")
            schema = run.checked_schema
            if not isinstance(schema, JsonSchema) or schema.source is not run.approved_schema:
                schema = run.checked_schema = JsonSchema(run.approved_schema)
        return schema

    def excerpts(self, prompt: str, documents: list[SourceDocument]) -> list[str]:
        """The documents' openings the LLM may be shown, shortest first: their chunks (a
        quarter of `proposal_tokens` each, at most `chunk_tokens`) taken in turns, the first
        of each document, then the second, ..., each excerpt one chunk longer, while the
        first request stays within `proposal_tokens` (runs in a thread). A later request
        (feedback, re-asks) takes the longest that keeps it within the budget."""
        if not documents:
            raise ValueError("no input could be read, so there is nothing to propose from")
        size = max(1, min(self.chunk_tokens, self.proposal_tokens // 4))
        chunked = [chunk_document(doc, i, size, 0, self.llm) for i, doc in enumerate(documents)]
        turns = [
            chunks[n]
            for n in range(max(map(len, chunked)))
            for chunks in chunked
            if n < len(chunks)
        ]
        taken: list[Chunk] = []
        excerpts: list[str] = []
        for piece in turns:
            trial = _excerpt_text(documents, [*taken, piece])
            if self.request_tokens(proposal_messages(prompt, trial, self.proposal_prompt)) > (
                self.proposal_tokens
            ):
                break
            taken.append(piece)
            excerpts.append(trial)
        if not excerpts:
            raise ValueError(
                f"proposal_tokens={self.proposal_tokens} leaves no room for the documents "
                "beside the instructions and the prompt; raise it"
            )
        return excerpts

    def proposal_request(self, proposal: ProposalState, ev: ProposalRequest) -> list[ChatMessage]:
        """The messages asking for `ev`'s proposal: the instructions, the prompt, the
        longest excerpt that keeps the whole request (the earlier proposal, the feedback,
        the unusable replies and the reply's schema included) within `proposal_tokens`;
        `ProposalBudgetError` when even the shortest does not."""
        count = 0
        for excerpt in reversed(proposal.excerpts):
            messages = proposal_messages(
                proposal.prompt, excerpt, self.proposal_prompt, ev.feedback, ev.previous
            )
            messages += ev.reasks
            count = self.request_tokens(messages)
            if count <= self.proposal_tokens:
                return messages
        raise ProposalBudgetError(self.proposal_tokens, count, ev.attempt, len(ev.feedback))

    def request_tokens(self, messages: list[ChatMessage]) -> int:
        """The tokens a proposal request of `messages` reads, its reply's JSON schema (sent
        as `response_format`) counted as one more message."""
        return self.llm.count_prompt_tokens([*messages, _REPLY_FORMAT])

    # -- private ---------------------------------------------------------------------------

    def _readable(self, files: list[str]) -> tuple[list[SourceDocument], dict[str, str]]:
        """The files that can be read, and why each other cannot (they fail again, as
        `FileFailed`, when the extraction loads them)."""
        documents: list[SourceDocument] = []
        failed: dict[str, str] = {}
        for path in files:
            try:
                documents.append(self.read_file(path))
            except UnreadableFileError as error:
                failed[path] = error.reason
        return documents, failed

    def _ask_again(self, ev: ProposalRequest, reply: str, error: str) -> ProposalRequest:
        if ev.attempt >= self.max_proposal_attempts:
            raise SchemaProposalError(ev.attempt, error, reply)
        reasks = unusable_reply_messages(reply, error)
        return ev.model_copy(update={"reasks": [*ev.reasks, *reasks]})


def read_proposal(text: str) -> dict[str, Any]:
    """The schema in a proposal's `json_schema` text, checked as `ExtractionWorkflow` checks
    a schema, with a description on every field; raises ValueError (or
    `SchemaNotSupportedError`) saying what is wrong."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"json_schema is not JSON: {error}") from error
    if not isinstance(schema, dict):
        raise ValueError(f"json_schema must be a JSON object, got {type(schema).__name__}")
    return usable_schema(schema)


def usable_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` when it can drive the extraction: checked as `ExtractionWorkflow` checks a
    schema, with a description on every field (a proposal's and a human's edit alike);
    raises ValueError (or `SchemaNotSupportedError`) saying what is wrong."""
    check_json_schema(schema)
    missing = undescribed_fields(schema)
    if missing:
        raise ValueError(f"these fields have no description: {', '.join(missing)}")
    return schema


def _proposal_of(run: ExtractionState) -> ProposalState:
    if run.proposal is None:
        raise RunStateError("the run has no proposal: it was not started by SchemaProposalWorkflow")
    return run.proposal


def _excerpt_text(documents: list[SourceDocument], pieces: list[Chunk]) -> str:
    """Each document's taken chunks as one passage (from the first's start to the last's
    end), in document order."""
    passages = []
    for index, document in enumerate(documents):
        own = [piece for piece in pieces if piece.file_index == index]
        if own:
            text = document.text[min(p.start for p in own) : max(p.end for p in own)]
            passages.append(document_excerpt(document.name, text))
    return "\n\n".join(passages)
