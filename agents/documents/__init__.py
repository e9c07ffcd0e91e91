"""Document extraction: a pydantic model (or a JSON schema) filled from files, with evidence
for every field.

```python
from agents.documents import ExtractionWorkflow

workflow = ExtractionWorkflow(llm=OpenAI("gpt-4o-mini"), schema=Invoice)
result = await workflow.run(files=["invoice.pdf", "invoice.html"])
result.data                      # an Invoice
result.fields["total"].quotes    # where the total was read: file, page, span
print(result.to_json())

outcomes = await extract_each(workflow, files=invoices)   # one result per document

# No schema written in advance: the LLM proposes one from a prompt, a human approves it.
proposing = SchemaProposalWorkflow(llm=OpenAI("gpt-4o-mini"))
handler = proposing.run("the parties, dates and amounts of this lease", files=["lease.pdf"])
# answer each SchemaProposed on handler.stream_events() with a SchemaReview
```

Files are read through llama-index-core's readers (the `documents` extra), cut into
token-budgeted chunks, extracted concurrently with per-field quotes that are checked
against the text (found there, and stating the value), merged per field, and optionally
reviewed by a human. Importing this package loads neither llama_index nor openai.
"""

from __future__ import annotations

from agents.documents.batch import DocumentOutcome, extract_each
from agents.documents.chunking import Chunk, chunk_document, chunk_spans
from agents.documents.errors import (
    ChunkExtractionError,
    DocumentExtractionError,
    HookSignatureError,
    IncompleteExtractionError,
    InvalidJsonSchemaError,
    NoReadableInputError,
    ProposalBudgetError,
    RunStateError,
    SchemaMismatch,
    SchemaNotSupportedError,
    SchemaProposalError,
    UnreadableFileError,
    UnsupportedFileTypeError,
    ValueMismatchError,
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
from agents.documents.evidence import Candidate, locate_quote
from agents.documents.fields import FieldSpec, field_specs, response_model
from agents.documents.json_schema import JsonSchema, check_json_schema
from agents.documents.loading import Page, SourceDocument, TextSource, read_file
from agents.documents.merge import merge_candidates
from agents.documents.proposal import SchemaProposalWorkflow
from agents.documents.proposal_events import (
    SchemaApproved,
    SchemaProposed,
    SchemaReview,
)
from agents.documents.result import (
    ExtractionResult,
    FieldEvidence,
    FileReport,
    Quote,
    QuoteStatus,
    ValueEvidence,
)
from agents.documents.run_state import ExtractionState, ExtractionWorkflowState
from agents.documents.schemas import ExtractionSchema, ModelSchema
from agents.documents.workflow import ExtractionWorkflow

__all__ = [
    "Candidate",
    "Chunk",
    "ChunkExtracted",
    "ChunkExtractionError",
    "ChunkFailed",
    "ChunkRequest",
    "DocumentExtractionError",
    "DocumentOutcome",
    "DraftReady",
    "ExtractionResult",
    "ExtractionSchema",
    "ExtractionStart",
    "ExtractionState",
    "ExtractionWorkflow",
    "ExtractionWorkflowState",
    "FieldEvidence",
    "FieldSpec",
    "FileFailed",
    "FileLoaded",
    "FileProgress",
    "FileReport",
    "HookSignatureError",
    "IncompleteExtractionError",
    "InvalidJsonSchemaError",
    "JsonSchema",
    "LoadRequest",
    "MergeRequest",
    "ModelSchema",
    "NoReadableInputError",
    "Page",
    "ProposalBudgetError",
    "Quote",
    "QuoteStatus",
    "ReviewDone",
    "ReviewRequired",
    "ReviewResponse",
    "RunStateError",
    "SchemaApproved",
    "SchemaMismatch",
    "SchemaNotSupportedError",
    "SchemaProposalError",
    "SchemaProposalWorkflow",
    "SchemaProposed",
    "SchemaReview",
    "SourceDocument",
    "TextSource",
    "UnreadableFileError",
    "UnsupportedFileTypeError",
    "ValueEvidence",
    "ValueMismatchError",
    "check_json_schema",
    "chunk_document",
    "chunk_spans",
    "extract_each",
    "field_specs",
    "locate_quote",
    "merge_candidates",
    "read_file",
    "response_model",
]
