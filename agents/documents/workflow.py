"""`ExtractionWorkflow`: a pydantic model filled from documents, with evidence for every field.

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
  fails the schema is sent back with the errors, up to `max_retries` times. Each quote is
  checked against the chunk: found there, and stating its value (`agents.documents.evidence`).
- `collect`: the one collector; once every input has failed or been extracted, asks for
  the merge.
- `merge`: per field, the candidates of all chunks become one `FieldEvidence`
  (`merge_fields`, `agents.documents.merge`); a reviewer's corrections are laid over them.
- `review`: by `review=` ("never", "always", "low_confidence"), emits `ReviewRequired` and
  waits for the `ReviewResponse`; corrections are applied, feedback re-extracts the fields
  it names, and the draft is shown again until it is approved.
- `finalize`: validates the data as the schema and builds the `ExtractionResult`.

The run's state (`ExtractionState`) and the review wait live in the context, so a run
waiting for a review can be saved with `ctx.to_dict()` and resumed in another process with
`Context.from_dict(workflow, data)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, overload

from pydantic import BaseModel, ValidationError

from agentflow import Context, Workflow, step
from agentflow.events import HumanResponseEvent, StartEvent, StopEvent
from agentflow.handler import WorkflowHandler
from agentflow.resource import Resource
from agents.documents.chunking import Chunk, chunk_document
from agents.documents.errors import (
    ChunkExtractionError,
    IncompleteExtractionError,
    NoReadableInputError,
    UnreadableFileError,
)
from agents.documents.events import (
    ChunkExtracted,
    ChunkFailed,
    ChunkRequest,
    DraftReady,
    ExtractionStart,
    FileFailed,
    FileLoaded,
    FileProgress,
    LoadRequest,
    MergeRequest,
    ReviewDone,
    ReviewRequired,
    ReviewResponse,
)
from agents.documents.evidence import Candidate, candidates_from_reply
from agents.documents.fields import FieldSpec, field_specs, response_model
from agents.documents.loading import (
    SourceDocument,
    as_text_source,
    documents_from_texts,
    read_file,
)
from agents.documents.merge import corrected, draft_data, merge_candidates
from agents.documents.prompts import SYSTEM_PROMPT, extraction_messages
from agents.documents.result import ExtractionResult, FieldEvidence, FileReport, ModelT
from agents.documents.review import apply_review, field_warnings, review_reasons
from agents.documents.run_state import ExtractionState
from agents.llm.errors import (
    EmptyResponseError,
    LLMLengthError,
    LLMRefusalError,
    StructuredOutputError,
)
from agents.llm.ledger import usage_since
from agents.llm.metered import MeteredLLM, ledger_total
from agents.llm.protocol import LLM
from agents.llm.structured import predict_structured, structured_request
from agents.llm.types import ChatMessage, ChatResponse
from agents.run_arguments import name_positional_arguments
from tools.threads import run_in_thread

ReviewMode = Literal["never", "always", "low_confidence"]

# A chunk that ends in one of these gives nothing and a warning; other errors (auth, a
# server down once the SDK's retries are spent) end the run, as they would for every chunk.
_CHUNK_FAILURES = (StructuredOutputError, LLMRefusalError, LLMLengthError, EmptyResponseError)


def _worker_limit(ctx: Context[Any]) -> asyncio.Semaphore:
    """One per run (a cached `Resource`): the loads and LLM calls of a run share it."""
    return asyncio.Semaphore(getattr(ctx.workflow, "num_workers", 4))


WorkerLimit = Annotated[asyncio.Semaphore, Resource(_worker_limit)]


class ExtractionWorkflow(Workflow[ExtractionResult[ModelT]], Generic[ModelT]):
    """Extract `schema` from files or texts: `await ExtractionWorkflow(llm=..., schema=Invoice)
    .run(files=["invoice.pdf"])` gives an `ExtractionResult[Invoice]`."""

    state_key = "extraction"
    """The state key of the run's `ExtractionState`."""
    unverified_penalty = 0.5
    """What a value's confidence is multiplied by when its quote is not verified (not found
    in the chunk, or found but not stating the value)."""
    review_timeout: float | None = None
    """Seconds a review may take (then the step fails); None waits as long as the run may."""

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
    ) -> None:
        """`chunk_tokens`/`chunk_overlap` size the chunks; `max_retries` is how many times a
        reply that fails the schema is sent back; `num_workers` bounds the files read and
        the LLM calls made at once. `timeout` is the whole run's (None: a run may wait for
        its review as long as it takes). `files_are_copies`: a run's files are copies of
        one document (an invoice as text and as HTML), so a list item they all state is
        one item; by default they are parts of one record, each adding its items."""
        super().__init__(timeout=timeout, **workflow_kwargs)
        if llm is None:
            raise TypeError("ExtractionWorkflow needs an llm, e.g. llm=OpenAI('gpt-4o-mini')")
        if schema is None:
            raise TypeError("ExtractionWorkflow needs a schema: a pydantic model class")
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
        self.schema: type[ModelT] = schema
        """The pydantic model to fill."""
        self.specs: dict[str, FieldSpec] = field_specs(schema)
        """The schema's fields, as asked for and merged."""
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
        self._response_models: dict[tuple[str, ...], type[BaseModel]] = {}

    @overload
    def run(
        self,
        ctx: Context[Any] | None = None,
        start_event: StartEvent | None = None,
        *,
        files: Sequence[str | Path] | None = None,
        documents: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> WorkflowHandler[ExtractionResult[ModelT]]: ...

    @overload
    def run(
        self,
        files: Sequence[str | Path],
        *,
        documents: Sequence[Any] | None = None,
        ctx: Context[Any] | None = None,
        start_event: StartEvent | None = None,
        **kwargs: Any,
    ) -> WorkflowHandler[ExtractionResult[ModelT]]: ...

    def run(self, *args: Any, **kwargs: Any) -> WorkflowHandler[ExtractionResult[ModelT]]:
        """Extract from `files` (paths; `run([...])` or `run(files=[...])`) and `documents`
        (str, dicts with "text" and "metadata", or LlamaIndex `Document`s; a reader's pages
        of one file are grouped by their file name). With neither, a `ctx` holding an
        unfinished run resumes it. A first argument that is a `Context` is `ctx`, as for any
        workflow."""
        name_positional_arguments(f"{type(self).__name__}.run", args, kwargs, ("files",))
        ctx, start_event = kwargs.pop("ctx", None), kwargs.pop("start_event", None)
        files, documents = kwargs.pop("files", None), kwargs.pop("documents", None)
        # A lone path or text is a Sequence too: iterated, it would be one input per character.
        if isinstance(files, (str, Path)):
            raise TypeError(f"files= takes a list of paths, got {files!r}: use files=[{files!r}]")
        if isinstance(documents, str):
            raise TypeError("documents= takes a list of texts or Documents, got one str")
        if files is not None:
            kwargs["files"] = [str(file) for file in files]
        if documents is not None:
            kwargs["documents"] = [as_text_source(item) for item in documents]
        return super().run(ctx, start_event, **kwargs)

    # -- steps --------------------------------------------------------------------------

    @step
    async def plan(self, ctx: Context[Any], ev: ExtractionStart) -> LoadRequest | FileLoaded | None:
        """Start the run's state with one report per input; send each file to `load`."""
        given = documents_from_texts(ev.documents)
        if not ev.files and not given:
            raise ValueError("ExtractionWorkflow.run() needs files=[...] or documents=[...]")
        names = [*ev.files, *(document.name for document in given)]
        state = ExtractionState(
            files=[FileReport(file=name) for name in names],
            usage_before=await ledger_total(ctx),
        )
        await self.save_state(ctx, state)
        for index, path in enumerate(ev.files):
            ctx.send_event(LoadRequest(file=path, file_index=index))
        for offset, document in enumerate(given):
            index = len(ev.files) + offset
            ctx.write_event_to_stream(self._progress(document.name, index, "loaded", document))
            ctx.send_event(FileLoaded(document=document, file_index=index))
        return None

    @step(num_workers=64)  # the real bound is num_workers, through the run's semaphore
    async def load(
        self, ctx: Context[Any], ev: LoadRequest, limit: WorkerLimit
    ) -> FileLoaded | FileFailed:
        """Read one file in a thread; one that cannot be read is a `FileFailed`."""
        try:
            async with limit:
                document = await run_in_thread(self.read_file, ev.file)
        except UnreadableFileError as error:
            failed = FileFailed(file=ev.file, file_index=ev.file_index, reason=error.reason)
            ctx.write_event_to_stream(failed)
            return failed
        ctx.write_event_to_stream(self._progress(ev.file, ev.file_index, "loaded", document))
        return FileLoaded(document=document, file_index=ev.file_index)

    @step(num_workers=4)
    async def chunk(self, ctx: Context[Any], ev: FileLoaded) -> ChunkRequest | FileFailed | None:
        """Cut a document into chunks and send each to `extract`."""
        chunks = await run_in_thread(self.split, ev.document, ev.file_index)
        name = ev.document.name
        if not chunks:
            failed = FileFailed(file=name, file_index=ev.file_index, reason="no text to extract")
            ctx.write_event_to_stream(failed)
            return failed
        progress = self._progress(name, ev.file_index, "chunked", ev.document)
        ctx.write_event_to_stream(progress.model_copy(update={"chunks_total": len(chunks)}))
        for piece in chunks:
            ctx.send_event(ChunkRequest(chunk=piece))
        return None

    @step(num_workers=64)  # the real bound is num_workers, through the run's semaphore
    async def extract(
        self, ctx: Context[Any], ev: ChunkRequest, limit: WorkerLimit
    ) -> ChunkExtracted:
        """Ask the LLM for the fields in one chunk; check every quote against the chunk."""
        names = ev.fields or list(self.specs)
        messages = extraction_messages(
            ev.chunk, self.specs, names, self.system_prompt, ev.feedback, ev.previous
        )
        try:
            async with limit:
                reply = await self.ask(ctx, self.response_model_for(names), messages)
        except _CHUNK_FAILURES as error:
            reason = str(error)
            ctx.write_event_to_stream(
                ChunkFailed(file=ev.chunk.file, chunk=ev.chunk.index, reason=reason)
            )
            return ChunkExtracted(chunk=ev.chunk, round=ev.round, error=reason)
        except Exception as error:
            piece = ev.chunk
            raise ChunkExtractionError(piece.file, piece.index, piece.count, error) from error
        candidates = candidates_from_reply(
            reply, ev.chunk, self.specs, names, self.unverified_penalty
        )
        return ChunkExtracted(chunk=ev.chunk, round=ev.round, candidates=candidates)

    @step(num_workers=1)  # one collector: the only writer of the state during a round
    async def collect(
        self, ctx: Context[Any], ev: ChunkExtracted | FileFailed
    ) -> MergeRequest | None:
        """Record a chunk's candidates or a file's failure; once every input is settled,
        ask for the merge (or fail the run, when no input could be read)."""
        state = await self.get_state(ctx)
        if isinstance(ev, FileFailed):
            report = state.files[ev.file_index]
            report.status, report.reason = "failed", ev.reason
            state.warnings.append(f"{ev.file} was not read: {ev.reason}")
        elif ev.round == state.round:
            self._record_chunk(ctx, state, ev)
        else:  # an answer to a round already merged: nothing waits for it
            return None
        await self.save_state(ctx, state)
        if not state.round_settled():
            return None
        if not any(report.status == "ok" for report in state.files):
            raise NoReadableInputError({r.file: r.reason or "" for r in state.files})
        return MergeRequest(round=state.round)

    @step
    async def merge(self, ctx: Context[Any], ev: MergeRequest) -> DraftReady:
        """Merge the candidates per field and lay the reviewer's corrections over them."""
        state = await self.get_state(ctx)
        fields = self.merge_fields(state.candidates)
        for name, value in state.corrections.items():
            fields[name] = corrected(value)
        return DraftReady(data=draft_data(fields), fields=fields)

    @step
    async def review(
        self, ctx: Context[Any], ev: DraftReady
    ) -> ReviewDone | MergeRequest | ChunkRequest | None:
        """Let a human approve, correct or send back the draft, when `review` says so.

        The wait is `ctx.wait_for_event`, so it is saved with the context: a run saved
        while waiting resumes here, showing the same draft again."""
        state = await self.get_state(ctx)
        reasons = self.review_reasons(ev.fields)
        if not self.needs_review(state, reasons):
            return ReviewDone(data=ev.data, fields=ev.fields)
        # Any HumanResponseEvent: a ReviewResponse from code, or a console's line of text.
        response = await ctx.wait_for_event(
            HumanResponseEvent,
            waiter_event=ReviewRequired(
                data=ev.data,
                fields=ev.fields,
                reasons=reasons,
                problems=state.problems,
                review=state.reviews + 1,
                prefix="Approve the extracted data, or give corrections or feedback: ",
            ),
            timeout=self.review_timeout,
        )
        answer = (
            response
            if isinstance(response, ReviewResponse)
            else ReviewResponse.from_text(str(response.get("response") or ""))
        )
        state.reviews += 1
        state.problems = []
        refetch = apply_review(state, answer, self.specs)
        if answer.approved and not state.problems:
            await self.save_state(ctx, state)
            fields = dict(ev.fields)
            for name, value in state.corrections.items():
                fields[name] = corrected(value)
            return ReviewDone(data=draft_data(fields), fields=fields)
        if not refetch or not state.chunks:
            await self.save_state(ctx, state)
            return MergeRequest(round=state.round)
        # Feedback: extract the fields it names again, with it, from every chunk.
        previous = {name: ev.data.get(name) for name in refetch}
        state.round += 1
        state.answered = {}
        state.candidates = [c for c in state.candidates if c.field not in refetch]
        await self.save_state(ctx, state)
        for piece in state.chunks:
            ctx.send_event(
                ChunkRequest(
                    chunk=piece,
                    round=state.round,
                    fields=refetch,
                    feedback=answer.feedback,
                    previous=previous,
                )
            )
        return None

    @step
    async def finalize(self, ctx: Context[Any], ev: ReviewDone) -> StopEvent:
        """Validate the data as the schema; the result, with the evidence and warnings."""
        state = await self.get_state(ctx)
        failed = {r.file: r.reason or "" for r in state.files if r.status == "failed"}
        try:
            # The draft is keyed by field name; a schema with aliases must take it too.
            data = self.schema.model_validate(ev.data, by_name=True)
        except ValidationError as error:
            problems = IncompleteExtractionError.problems_in(error)
            raise IncompleteExtractionError(
                self.schema, problems, ev.data, ev.fields, failed, state.failed_chunks
            ) from error
        result: ExtractionResult[ModelT] = ExtractionResult(
            data=data,
            fields=ev.fields,
            files=state.files,
            usage=usage_since(state.usage_before, await ledger_total(ctx)),
            warnings=[*state.warnings, *self.field_warnings(ev.fields)],
            reviews=state.reviews,
        )
        return StopEvent(result=result)

    # -- pieces the steps share; override to change one behaviour ------------------------

    def read_file(self, path: str) -> SourceDocument:
        """One file as pages (runs in a thread); raises `UnreadableFileError`."""
        return read_file(path)

    def split(self, document: SourceDocument, file_index: int) -> list[Chunk]:
        """`document` as chunks of at most `chunk_tokens` tokens (runs in a thread)."""
        model = self.llm.metadata.model
        return chunk_document(document, file_index, self.chunk_tokens, self.chunk_overlap, model)

    def response_model_for(self, names: list[str]) -> type[BaseModel]:
        """The reply model asking for the fields `names` (made once per set of names)."""
        key = tuple(names)
        if key not in self._response_models:
            self._response_models[key] = response_model(self.schema, self.specs, names)
        return self._response_models[key]

    async def ask(
        self, ctx: Context[Any], output_cls: type[BaseModel], messages: list[ChatMessage]
    ) -> BaseModel:
        """One structured call, booked in the ledger: a reply that fails `output_cls` is
        sent back with the validation errors, up to `max_retries` times."""
        llm = MeteredLLM(self.llm, ctx)
        request = structured_request(self.llm, output_cls)

        async def chat(conversation: list[ChatMessage]) -> ChatResponse:
            return await llm.achat(conversation, **request)

        return await predict_structured(
            chat, output_cls, messages, max_attempts=self.max_retries + 1
        )

    def merge_fields(self, candidates: list[Candidate]) -> dict[str, FieldEvidence]:
        """One `FieldEvidence` per schema field from every chunk's candidates (see
        `agents.documents.merge`). Override to merge differently, e.g. to add up amounts."""
        return merge_candidates(candidates, self.specs, self.files_are_copies)

    def review_reasons(self, fields: dict[str, FieldEvidence]) -> list[str]:
        """What in the draft a person should look at (`review.review_reasons`)."""
        return review_reasons(fields, self.specs, self.confidence_threshold)

    def needs_review(self, state: ExtractionState, reasons: list[str]) -> bool:
        """Whether this draft goes to a human: always, never, or when there are reasons
        (low_confidence); once a human has answered, until they approve."""
        if self.review_mode == "never":
            return False
        return self.review_mode == "always" or bool(reasons) or state.reviews > 0

    def field_warnings(self, fields: dict[str, FieldEvidence]) -> list[str]:
        """The warnings the final evidence calls for (`review.field_warnings`)."""
        return field_warnings(fields)

    async def get_state(self, ctx: Context[Any]) -> ExtractionState:
        """The run's state (a fresh one outside a run started by `plan`)."""
        state = await ctx.store.get(self.state_key, default=None)
        return state if isinstance(state, ExtractionState) else ExtractionState()

    async def save_state(self, ctx: Context[Any], state: ExtractionState) -> None:
        """Store the run's state in the context."""
        await ctx.store.set(self.state_key, state)

    # -- private ---------------------------------------------------------------------------

    def _record_chunk(self, ctx: Context[Any], state: ExtractionState, ev: ChunkExtracted) -> None:
        done = state.record_chunk(ev)
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

    def _progress(
        self, file: str, index: int, stage: Literal["loaded", "chunked"], document: SourceDocument
    ) -> FileProgress:
        return FileProgress(file=file, file_index=index, stage=stage, pages=len(document.pages))
