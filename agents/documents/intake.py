"""`DocumentIntake`: the first part of `ExtractionWorkflow`, from the inputs to the chunks.

```
 files / documents ─> plan ─> load (a file, in a thread) ─(FileLoaded)─> chunk ─> ChunkRequest
                        │       └─ FileFailed (unreadable)                 │      (one per chunk)
                        └─ given texts ─(FileLoaded)─> chunk               └─ FileFailed (no text)
```

A base class of `ExtractionWorkflow` only to keep each module to one concern: the three
steps that turn the run's inputs into chunks, the methods they call (`read_file`, `split`),
and the run's inputs (`run(files, documents=...)`, `start_fields`). Override any of them in
an `ExtractionWorkflow` subclass as usual. Every step edits the run's state in place under
`ctx.store.edit_state()` (an `ExtractionWorkflowState`); the loads and the LLM calls of a
run share one bound, the kit's `RunLimit` (`num_workers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, overload

from agentflow import Context, step
from agentflow.events import StartEvent
from agentflow.handler import WorkflowHandler
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
from agents.documents.loading import (
    SourceDocument,
    as_text_source,
    documents_from_texts,
    read_file,
)
from agents.documents.result import ExtractionResult, FileReport, ModelT
from agents.documents.run_state import ExtractionState, ExtractionWorkflowState
from agents.kit.run_limit import RunLimit
from agents.kit.workflow import PrebuiltWorkflow
from agents.llm.protocol import LLM
from tools.threads import run_in_thread


class DocumentIntake(PrebuiltWorkflow[ExtractionResult[ModelT]], Generic[ModelT]):
    """The plan, load and chunk steps of `ExtractionWorkflow` (not run on its own)."""

    run_inputs: ClassVar[tuple[str, ...]] = ("files",)
    """`run(["invoice.pdf"])` is `run(files=["invoice.pdf"])`."""
    llm: LLM
    """The chat model; its token counts size the chunks (set by `ExtractionWorkflow.__init__`)."""
    chunk_tokens: int
    """Most tokens in one chunk (set by `ExtractionWorkflow.__init__`)."""
    chunk_overlap: int
    """Tokens a chunk repeats from the end of the one before (set by
    `ExtractionWorkflow.__init__`)."""
    num_workers: int
    """Files read and LLM calls made at once (set by `ExtractionWorkflow.__init__`)."""

    @property
    def per_run_limit(self) -> int:
        """The bound of the run's `RunLimit`: `num_workers`."""
        return self.num_workers

    def start_fields(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Extract from `files` (paths; `run([...])` or `run(files=[...])`) and `documents`
        (str, dicts with "text" and "metadata", or LlamaIndex `Document`s; a reader's pages
        of one file are grouped by their file name). With neither, a `ctx` holding an
        unfinished run resumes it."""
        files, documents = arguments.pop("files", None), arguments.pop("documents", None)
        # A lone path or text is a Sequence too: iterated, it would be one input per character.
        if isinstance(files, (str, Path)):
            raise TypeError(f"files= takes a list of paths, got {files!r}: use files=[{files!r}]")
        if isinstance(documents, str):
            raise TypeError("documents= takes a list of texts or Documents, got one str")
        if files is not None:
            arguments["files"] = [str(file) for file in files]
        if documents is not None:
            arguments["documents"] = [as_text_source(item) for item in documents]
        return arguments

    if TYPE_CHECKING:  # the kit's run(), typed for extraction

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

        def run(self, *args: Any, **kwargs: Any) -> WorkflowHandler[ExtractionResult[ModelT]]: ...

    # -- steps --------------------------------------------------------------------------

    @step
    async def plan(
        self, ctx: Context[ExtractionWorkflowState], ev: ExtractionStart
    ) -> LoadRequest | FileLoaded | None:
        """Start the run's state with one report per input; send each file to `load`."""
        given = documents_from_texts(ev.documents)
        if not ev.files and not given:
            raise ValueError("ExtractionWorkflow.run() needs files=[...] or documents=[...]")
        async with ctx.store.edit_state() as state:
            state.begin_run(ExtractionState(files=input_reports(ev.files, given)))
        self.send_inputs(ctx, ev.files, given)
        return None

    @step(num_workers=64)  # the real bound is num_workers, through the run's semaphore
    async def load(
        self, ctx: Context[ExtractionWorkflowState], ev: LoadRequest, limit: RunLimit
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
    async def chunk(
        self, ctx: Context[ExtractionWorkflowState], ev: FileLoaded
    ) -> ChunkRequest | FileFailed | None:
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

    # -- the pieces the steps call; override to change one behaviour -------------------

    def send_inputs(
        self, ctx: Context[ExtractionWorkflowState], files: list[str], given: list[SourceDocument]
    ) -> None:
        """Start the extraction of the run's inputs: each file to `load`, each given text
        (already pages) to `chunk`, numbered files first."""
        for index, path in enumerate(files):
            ctx.send_event(LoadRequest(file=path, file_index=index))
        for offset, document in enumerate(given):
            index = len(files) + offset
            ctx.write_event_to_stream(self._progress(document.name, index, "loaded", document))
            ctx.send_event(FileLoaded(document=document, file_index=index))

    def read_file(self, path: str) -> SourceDocument:
        """One file as pages (runs in a thread); raises `UnreadableFileError`."""
        return read_file(path)

    def split(self, document: SourceDocument, file_index: int) -> list[Chunk]:
        """`document` as chunks of at most `chunk_tokens` tokens (runs in a thread)."""
        return chunk_document(document, file_index, self.chunk_tokens, self.chunk_overlap, self.llm)

    # -- private ---------------------------------------------------------------------------

    def _progress(
        self, file: str, index: int, stage: Literal["loaded", "chunked"], document: SourceDocument
    ) -> FileProgress:
        return FileProgress(file=file, file_index=index, stage=stage, pages=len(document.pages))


def input_reports(files: list[str], given: list[SourceDocument]) -> list[FileReport]:
    """One pending report per input of a run, files first, in the order given."""
    return [FileReport(file=name) for name in [*files, *(document.name for document in given)]]
