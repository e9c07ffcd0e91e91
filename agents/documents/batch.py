"""`extract_each`: one result per document, for a batch of independent documents.

One `ExtractionWorkflow` run merges all its inputs into one record, which is right for an
invoice and its copies and wrong for fifty different invoices. `extract_each` gives each
document a run of its own (its own context, so nothing is merged across documents), runs
up to `concurrency` of them at once, and returns one `DocumentOutcome` per document in the
order given: the result, or the error that document ended with. A bad document never
fails the batch.

```python
outcomes = await extract_each(workflow, files=sorted(Path("inbox").glob("*.pdf")))
for outcome in outcomes:
    print(outcome.file, outcome.result.data if outcome.result else outcome.error)
```

Every event of every run goes to `on_event` (a `FileProgress` names its file); with
`review=` other than "never", `on_review` answers each `ReviewRequired`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic

from agentflow.events import Event
from agents.documents.errors import UnreadableFileError
from agents.documents.events import FileFailed, ReviewRequired, ReviewResponse
from agents.documents.loading import TextSource, as_text_source, documents_from_texts
from agents.documents.result import ExtractionResult, ModelT
from agents.documents.workflow import ExtractionWorkflow

EventCallback = Callable[[str, Event], Awaitable[None] | None]
"""Called with the document's name and each event its run streams."""
ReviewCallback = Callable[[str, ReviewRequired], Awaitable[ReviewResponse]]
"""Answers one document's review."""


@dataclass
class DocumentOutcome(Generic[ModelT]):
    """How one document of a batch ended."""

    file: str
    """The file as given, or the document's name."""
    result: ExtractionResult[ModelT] | None = None
    """Its result; None when it failed."""
    error: Exception | None = None
    """Why it failed: `UnreadableFileError` for a file that could not be read, else the
    run's error (`IncompleteExtractionError` for a required field found nowhere)."""


async def extract_each(
    workflow: ExtractionWorkflow[ModelT],
    files: Sequence[str | Path] = (),
    documents: Sequence[Any] = (),
    concurrency: int = 4,
    on_event: EventCallback | None = None,
    on_review: ReviewCallback | None = None,
) -> list[DocumentOutcome[ModelT]]:
    """Extract each file and each document (pages of one file name are one document) in a
    run of its own, up to `concurrency` at once; outcomes in the order given (files first).

    Each run's chunks are still bounded by the workflow's `num_workers`, so at most
    `concurrency * num_workers` LLM calls are in flight."""
    if isinstance(files, (str, Path)) or isinstance(documents, str):
        raise TypeError("files= and documents= take lists: one path or text goes in [...]")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if workflow.review_mode != "never" and on_review is None:
        raise ValueError(
            f"the workflow reviews drafts (review={workflow.review_mode!r}): pass on_review= "
            "to answer them, or use review='never'"
        )
    inputs: list[tuple[str, dict[str, Any]]] = [
        (str(file), {"files": [str(file)]}) for file in files
    ]
    for document in documents_from_texts(as_text_source(item) for item in documents):
        pages = [
            TextSource(
                text=page.text,
                name=document.name,
                metadata={
                    **document.metadata,
                    **({"page_label": page.label} if page.label else {}),
                },
            )
            for page in document.pages
        ]
        inputs.append((document.name, {"documents": pages}))
    limit = asyncio.Semaphore(concurrency)

    async def one(name: str, run_kwargs: dict[str, Any]) -> DocumentOutcome[ModelT]:
        async with limit:
            return await _extract_one(workflow, name, run_kwargs, on_event, on_review)

    return list(await asyncio.gather(*(one(name, kwargs) for name, kwargs in inputs)))


async def _extract_one(
    workflow: ExtractionWorkflow[ModelT],
    name: str,
    run_kwargs: dict[str, Any],
    on_event: EventCallback | None,
    on_review: ReviewCallback | None,
) -> DocumentOutcome[ModelT]:
    handler = workflow.run(**run_kwargs)
    unreadable: FileFailed | None = None
    try:
        async for event in handler.stream_events():
            if isinstance(event, FileFailed):
                unreadable = event
            if on_event is not None:
                returned = on_event(name, event)
                if returned is not None:
                    await returned
            if isinstance(event, ReviewRequired) and on_review is not None:
                handler.ctx.send_event(await on_review(name, event))
        result: ExtractionResult[ModelT] = await handler
    except Exception as error:  # this document's failure, whatever it is, is its outcome
        failure: Exception = error
        if unreadable is not None:
            failure = UnreadableFileError(unreadable.file, unreadable.reason)
        return DocumentOutcome(file=name, error=failure)
    finally:
        if not handler.done():  # a callback failed: the run must not outlive the batch
            await handler.cancel_run()
    return DocumentOutcome(file=name, result=result)
