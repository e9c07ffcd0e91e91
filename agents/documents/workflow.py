"""`ExtractionWorkflow`: a pydantic model (or a JSON schema) filled from documents, with
evidence for every field.

```
 files / documents ─> plan ─> load ─(FileLoaded)─> chunk ─(ChunkRequest per chunk)─> extract
                        │       └─ FileFailed ─────┐                                    │
                        │                          v                                    v
                        └─ given texts ─> chunk   collect <──────────── ChunkExtracted ─┘
                                                    │ every input settled
                                                    v
                     finalize <─ ReviewDone ─ review <─ DraftReady ─ merge
                        │                      │  └─ ReviewRequired ⇄ ReviewResponse (a human)
                        v                      └─ feedback: ChunkRequest again, for the fields named
               StopEvent(ExtractionResult)        corrections: MergeRequest again
```

Each box is a step a subclass may override on its own:

- `plan`: starts the run's state and sends each file to `load` (given texts go to `chunk`).
- `load`: reads one file in a thread (`read_file`); an unreadable one is a `FileFailed`.
- `chunk`: cuts a document into token-budgeted chunks (`split`) and sends each to `extract`.
- `extract`: one structured LLM call per chunk, at most `num_workers` at once; a reply that
  fails the schema is sent back with the errors, up to `max_retries` times, each attempt an
  execution of its own (with a store, each is journalled and never asked for twice). Each
  quote is checked against the chunk: found there, and stating its value
  (`agents.documents.evidence`).
- `collect`: the one collector; once every input has failed or been extracted, asks for
  the merge.
- `merge`: per field, the candidates of all chunks become one `FieldEvidence`
  (`merge_fields`, `agents.documents.merge`); a reviewer's corrections are laid over them.
- `review`: by `review=` ("never", "always", "low_confidence"), emits `ReviewRequired` and
  waits for the `ReviewResponse`; corrections are applied, feedback re-extracts the fields
  it names, and the draft is shown again until it is approved.
- `finalize`: validates the data as the schema and builds the `ExtractionResult`.

The `plan`, `load` and `chunk` steps and `run()`'s inputs live in the base class
`DocumentIntake` (`intake.py`), the `merge`, `review` and `finalize` steps in `DraftReview`
(`draft_review.py`); the extraction itself (`extract`, `collect`) is here.

The run's state (`ExtractionState`) and the review wait live in the context, so a run
waiting for a review can be saved with `ctx.to_dict()` and resumed in another process with
`Context.from_dict(workflow, data)`.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, overload

from pydantic import BaseModel

from agentflow import Context, step
from agents.documents.draft_review import DraftReview, ReviewMode
from agents.documents.errors import (
    ChunkExtractionError,
    HookSignatureError,
    NoReadableInputError,
    RunStateError,
)
from agents.documents.events import (
    ChunkExtracted,
    ChunkFailed,
    ChunkRequest,
    FileFailed,
    FileProgress,
    MergeRequest,
)
from agents.documents.evidence import candidates_from_reply
from agents.documents.fields import FieldSpec
from agents.documents.json_schema import JsonSchema
from agents.documents.prompts import SYSTEM_PROMPT, extraction_messages
from agents.documents.result import ModelT
from agents.documents.run_state import ExtractionState, ExtractionWorkflowState
from agents.documents.schemas import ExtractionSchema, ModelSchema
from agents.kit.reply_failures import PIECE_FAILURES
from agents.kit.run_limit import RunLimit
from agents.llm.errors import StructuredOutputError
from agents.llm.metered import MeteredLLM
from agents.llm.protocol import LLM
from agents.llm.structured import predict_structured, reask_messages
from agents.llm.types import ChatMessage, ChatResponse


class ExtractionWorkflow(DraftReview[ModelT]):
    """Extract `schema` from files or texts: `await ExtractionWorkflow(llm=..., schema=Invoice)
    .run(files=["invoice.pdf"])` gives an `ExtractionResult[Invoice]`; with a JSON Schema
    dict as the schema, an `ExtractionResult[dict[str, Any]]` (`data` is a dict valid
    against it)."""

    schema_from_run: ClassVar[bool] = False
    """True for a workflow whose runs bring their own schema (`SchemaProposalWorkflow`),
    so that it is built without one."""

    unverified_penalty = 0.5
    """What a value's confidence is multiplied by when its quote is not verified (not found
    in the chunk, or found but not stating the value)."""

    # Typed twice so that a JSON schema makes an ExtractionWorkflow[dict[str, Any]].
    @overload
    def __init__(
        self: ExtractionWorkflow[dict[str, Any]],
        llm: LLM | None = None,
        *,
        schema: dict[str, Any],
        chunk_tokens: int = 2000,
        chunk_overlap: int = 200,
        max_retries: int = 2,
        review: ReviewMode = "never",
        confidence_threshold: float = 0.7,
        num_workers: int = 4,
        system_prompt: str = SYSTEM_PROMPT,
        timeout: float | None = None,
        files_are_copies: bool = False,
        **workflow_kwargs: Any,
    ) -> None: ...

    @overload
    def __init__(
        self,
        llm: LLM | None = None,
        schema: type[ModelT] | None = None,
        chunk_tokens: int = 2000,
        chunk_overlap: int = 200,
        max_retries: int = 2,
        review: ReviewMode = "never",
        confidence_threshold: float = 0.7,
        num_workers: int = 4,
        system_prompt: str = SYSTEM_PROMPT,
        timeout: float | None = None,
        files_are_copies: bool = False,
        **workflow_kwargs: Any,
    ) -> None: ...

    def __init__(
        self,
        llm: LLM | None = None,
        schema: type[ModelT] | dict[str, Any] | None = None,
        chunk_tokens: int = 2000,
        chunk_overlap: int = 200,
        max_retries: int = 2,
        review: ReviewMode = "never",
        confidence_threshold: float = 0.7,
        num_workers: int = 4,
        system_prompt: str = SYSTEM_PROMPT,
        timeout: float | None = None,
        files_are_copies: bool = False,
        **workflow_kwargs: Any,
    ) -> None:
        """`chunk_tokens`/`chunk_overlap` size the chunks; `max_retries` is how many times a
        reply that fails the schema is sent back; `num_workers` bounds the files read and
        the LLM calls made at once. `timeout` is the whole run's (None: a run may wait for
        its review as long as it takes). `files_are_copies`: a run's files are copies of
        one document (an invoice as text and as HTML), so a list item they all state is
        one item; by default they are parts of one record, each adding its items.

        `schema` is a pydantic model class or a JSON Schema dict (Draft 2020-12; see
        `agents.documents.json_schema` for what is checked here, before any run)."""
        super().__init__(timeout=timeout, **workflow_kwargs)
        if llm is None:
            raise TypeError("ExtractionWorkflow needs an llm, e.g. llm=OpenAI('gpt-4o-mini')")
        if schema is None and not self.schema_from_run:
            raise TypeError(
                "ExtractionWorkflow needs a schema: a pydantic model class or a JSON Schema dict"
            )
        if review not in ("never", "always", "low_confidence"):
            raise ValueError(
                f"review must be 'never', 'always' or 'low_confidence', got {review!r}"
            )
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        if num_workers < 1:
            raise ValueError(f"num_workers must be at least 1, got {num_workers}")
        if chunk_tokens < 1:  # checked first: the overlap check would blame chunk_overlap
            raise ValueError(f"chunk_tokens must be at least 1, got {chunk_tokens}")
        if not 0 <= chunk_overlap < chunk_tokens:
            raise ValueError(
                f"chunk_overlap must be at least 0 and below chunk_tokens ({chunk_tokens}), "
                f"got {chunk_overlap}"
            )
        if not 0 <= confidence_threshold <= 1:
            raise ValueError(
                f"confidence_threshold must be between 0 and 1, got {confidence_threshold}"
            )
        self.llm = llm
        """The chat model; each call is booked in the context's usage ledger."""
        self.schema = schema
        """The schema to fill, as given: a pydantic model class or a JSON Schema dict."""
        self.target: ExtractionSchema | None = None if schema is None else _schema_of(schema)
        _check_hooks(self)
        self.chunk_tokens = chunk_tokens
        """Most tokens in one chunk."""
        self.chunk_overlap = chunk_overlap
        """Tokens a chunk repeats from the end of the one before."""
        self.max_retries = max_retries
        """Times a reply that fails the schema is sent back with the errors."""
        self.review_mode: ReviewMode = review
        """When a human reviews the draft (the `review=` argument; `review` is the step)."""
        self.confidence_threshold = confidence_threshold
        """With review="low_confidence", fields below this confidence call for a review."""
        self.num_workers = num_workers
        """Files read and LLM calls made at once."""
        self.files_are_copies = files_are_copies
        """Whether a run's files are copies of one document (list items pair up across
        them) rather than parts of one record."""
        self.system_prompt = system_prompt
        """The instructions; `{fields}` is replaced by the fields asked for."""

    # -- steps --------------------------------------------------------------------------

    @step(num_workers=64)  # the real bound is num_workers, through the run's RunLimit
    async def extract(
        self, ctx: Context[ExtractionWorkflowState], ev: ChunkRequest, limit: RunLimit
    ) -> ChunkExtracted | ChunkRequest:
        """Ask the LLM for the fields in one chunk; check every quote against the chunk. A
        reply that fails the schema comes back as the same request with the reply and its
        errors added (`reasks`), up to `max_retries` times."""
        schema = await self.run_schema(ctx)
        names = ev.fields or list(schema.specs)
        messages = extraction_messages(
            ev.chunk, schema.specs, names, self.system_prompt, ev.feedback, ev.previous
        )
        output_cls = self.response_model_for(names, schema)
        try:
            async with limit:
                reply = await self.ask(ctx, output_cls, messages + ev.reasks)
        except PIECE_FAILURES as error:  # this chunk's loss only; others end the run (kit)
            if isinstance(error, StructuredOutputError):
                if ev.attempt <= self.max_retries:
                    reasks = reask_messages(error.last_reply, error.errors)
                    return ev.model_copy(update={"reasks": [*ev.reasks, *reasks]})
                error = StructuredOutputError(
                    error.output_cls, ev.attempt, error.errors, error.last_reply
                )
            reason = str(error)
            ctx.write_event_to_stream(
                ChunkFailed(file=ev.chunk.file, chunk=ev.chunk.index, reason=reason)
            )
            return ChunkExtracted(chunk=ev.chunk, round=ev.round, error=reason)
        except Exception as error:
            piece = ev.chunk
            raise ChunkExtractionError(piece.file, piece.index, piece.count, error) from error
        candidates = candidates_from_reply(
            reply, ev.chunk, schema.specs, names, self.unverified_penalty
        )
        return ChunkExtracted(chunk=ev.chunk, round=ev.round, candidates=candidates)

    @step(num_workers=1)  # one collector: the only writer of the state during a round
    async def collect(
        self, ctx: Context[ExtractionWorkflowState], ev: ChunkExtracted | FileFailed
    ) -> MergeRequest | None:
        """Record a chunk's candidates or a file's failure; once every input is settled,
        ask for the merge (or fail the run, when no input could be read)."""
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            if isinstance(ev, FileFailed):
                report = run.files[ev.file_index]
                report.status, report.reason = "failed", ev.reason
                run.warnings.append(f"{ev.file} was not read: {ev.reason}")
            elif ev.round == run.round:
                self._record_chunk(ctx, run, ev)
            else:  # an answer to a round already merged: nothing waits for it
                return None
            if not run.round_settled():
                return None
            if not any(report.status == "ok" for report in run.files):
                raise NoReadableInputError({r.file: r.reason or "" for r in run.files})
            return MergeRequest(round=run.round)

    @property
    def specs(self) -> dict[str, FieldSpec]:
        """The schema's fields, as asked for and merged. A workflow whose runs bring their
        own schema (`SchemaProposalWorkflow`) has none of its own: `RunStateError`, pointing
        at `run_schema`."""
        if self.target is None:
            raise RunStateError(
                f"{type(self).__name__} has no schema of its own: each run's fields are "
                "(await self.run_schema(ctx)).specs"
            )
        return self.target.specs

    # -- pieces the steps call; override to change one behaviour -------------------------

    def response_model_for(self, names: list[str], schema: ExtractionSchema) -> type[BaseModel]:
        """The reply model asking for the fields `names` of the run's `schema` (made once
        per set of names)."""
        return schema.response_model(names)

    async def ask(
        self, ctx: Context[Any], output_cls: type[BaseModel], messages: list[ChatMessage]
    ) -> BaseModel:
        """One structured call, booked in the ledger; a reply that fails `output_cls` raises
        `StructuredOutputError` (`extract` sends it back with the errors, as a request of its
        own)."""
        llm = MeteredLLM(self.llm, ctx)
        request = self.llm.structured_kwargs(output_cls)

        async def chat(conversation: list[ChatMessage]) -> ChatResponse:
            return await llm.achat(conversation, **request)

        return await predict_structured(chat, output_cls, messages, max_attempts=1)

    # -- private ---------------------------------------------------------------------------

    def _record_chunk(self, ctx: Context[Any], run: ExtractionState, ev: ChunkExtracted) -> None:
        done = run.record_chunk(ev)
        piece = ev.chunk
        progress = FileProgress(
            file=piece.file,
            file_index=piece.file_index,
            stage="extracted",
            pages=piece.pages,
            chunks_done=done,
            chunks_total=piece.count,
            round=ev.round,
        )
        ctx.write_event_to_stream(progress)
        if done == piece.count:
            ctx.write_event_to_stream(progress.model_copy(update={"stage": "done"}))


_HOOKS = {
    "merge_fields": "merge_fields(candidates, specs)",
    "review_reasons": "review_reasons(fields, specs)",
    "response_model_for": "response_model_for(names, schema)",
}
"""The hooks whose signature took the run's schema in (issue 21), as the steps call them."""


def _check_hooks(workflow: ExtractionWorkflow[Any]) -> None:
    """Refuse an override of a hook that cannot take the arguments the steps pass (an
    override written for the older signature), before a run pays for any LLM call."""
    for hook, signature in _HOOKS.items():
        try:
            inspect.signature(getattr(workflow, hook)).bind(None, None)
        except TypeError:
            raise HookSignatureError(type(workflow).__name__, hook, signature) from None


def _schema_of(schema: Any) -> ExtractionSchema:
    """The user's schema as the pipeline uses it."""
    if isinstance(schema, dict):
        return JsonSchema(schema)
    return ModelSchema(schema)
