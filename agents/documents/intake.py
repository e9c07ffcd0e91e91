"""`DocumentIntake`: the first part of `ExtractionWorkflow`, from the inputs to the chunks.

```
 files / documents ─> plan ─> load (a file, in a thread) ─(FileLoaded)─> chunk ─> ChunkRequest
                        │       └─ FileFailed (unreadable)                 │      (one per chunk)
                        └─ given texts ─(FileLoaded)─> chunk               └─ FileFailed (no text)
```

A base class of `ExtractionWorkflow` only to keep each module to one concern: the three
steps that turn the run's inputs into chunks, the methods they call (`read_file`, `split`),
the per-run limit on work done at once (`WorkerLimit`) and the run's state access that every
step shares. Override any of them in an `ExtractionWorkflow` subclass as usual.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Generic, Literal

from agentflow import Context, Workflow, step
from agentflow.resource import Resource
from agents.documents.chunking import Chunk, chunk_document
from agents.documents.errors import UnreadableFileError
from agents.documents.events import (
    ChunkRequest,
    ExtractionStart,
    FileFailed,
    FileLoaded,
    FileProgress,
    LoadRequest,
)
from agents.documents.loading import SourceDocument, documents_from_texts, read_file
from agents.documents.result import ExtractionResult, FileReport, ModelT
from agents.documents.run_state import ExtractionState
from agents.llm.metered import ledger_total
from agents.llm.protocol import LLM
from tools.threads import run_in_thread


def _worker_limit(ctx: Context[Any]) -> asyncio.Semaphore:
    """One per run (a cached `Resource`): the loads and LLM calls of a run share it."""
    return asyncio.Semaphore(getattr(ctx.workflow, "num_workers", 4))


WorkerLimit = Annotated[asyncio.Semaphore, Resource(_worker_limit)]


class DocumentIntake(Workflow[ExtractionResult[ModelT]], Generic[ModelT]):
    """The plan, load and chunk steps of `ExtractionWorkflow` (not run on its own)."""

    state_key = "extraction"
    """The state key of the run's `ExtractionState`."""
    llm: LLM
    """The chat model; its tokenizer sizes the chunks (set by `ExtractionWorkflow.__init__`)."""
    chunk_tokens: int
    """Most tokens in one chunk (set by `ExtractionWorkflow.__init__`)."""
    chunk_overlap: int
    """Tokens a chunk repeats from the end of the one before (set by
    `ExtractionWorkflow.__init__`)."""

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

    # -- the pieces the steps call, and the state; override to change one behaviour -----

    def read_file(self, path: str) -> SourceDocument:
        """One file as pages (runs in a thread); raises `UnreadableFileError`."""
        return read_file(path)

    def split(self, document: SourceDocument, file_index: int) -> list[Chunk]:
        """`document` as chunks of at most `chunk_tokens` tokens (runs in a thread)."""
        model = self.llm.metadata.model
        return chunk_document(document, file_index, self.chunk_tokens, self.chunk_overlap, model)

    async def get_state(self, ctx: Context[Any]) -> ExtractionState:
        """The run's state (a fresh one outside a run started by `plan`)."""
        state = await ctx.store.get(self.state_key, default=None)
        return state if isinstance(state, ExtractionState) else ExtractionState()

    async def save_state(self, ctx: Context[Any], state: ExtractionState) -> None:
        """Store the run's state in the context."""
        await ctx.store.set(self.state_key, state)

    # -- private ---------------------------------------------------------------------------

    def _progress(
        self, file: str, index: int, stage: Literal["loaded", "chunked"], document: SourceDocument
    ) -> FileProgress:
        return FileProgress(file=file, file_index=index, stage=stage, pages=len(document.pages))
