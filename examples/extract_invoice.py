"""Extract an invoice from its text and HTML copies, with a quote behind every field.

    OPENAI_API_KEY=sk-... python examples/extract_invoice.py
    OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_MODEL=qwen2.5 \
        python examples/extract_invoice.py examples/data/northwind-invoice.txt my-invoice.pdf

Works with OpenAI or any OpenAI-compatible server that supports `response_format` JSON
schemas (vLLM, Ollama, LM Studio...): set `OPENAI_API_KEY`, `OPENAI_BASE_URL`, or both;
`OPENAI_MODEL` picks the model. Without file arguments it reads the sample invoice in
`examples/data/` (a text file and the HTML page of the same invoice); PDF files work too
with the `documents` extra, and docx files once `docx2txt` is installed. A slow server (a
small model on a laptop) gets more time with `--llm-timeout SECONDS` (or `OPENAI_TIMEOUT`).

An invoice missing a required field (say the total) is reported with what was found, and
the script exits 1; so does a run the server ends (a wrong API key, no answer in time), said
in one line on stderr.

The workflow subclass shows how to override one step's logic: `merge_fields` runs the
default merge, then checks the arithmetic (line items to subtotal, subtotal plus tax to
total). A total that does not add up is sent to a person for review, on the console; at
the end of input (`< /dev/null`) the draft is approved as it stands.
"""

# No `from __future__ import annotations` here: the models' annotations are then objects,
# and the models are complete even when this file is loaded without a module name.
import argparse
import asyncio
import json
import sys
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

from agents.documents import (
    Candidate,
    DocumentExtractionError,
    ExtractionResult,
    ExtractionWorkflow,
    FieldEvidence,
    FieldSpec,
    FileFailed,
    FileProgress,
    IncompleteExtractionError,
    ReviewRequired,
    ReviewResponse,
)
from agents.llm import LLM

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_FILES = [DATA / "northwind-invoice.txt", DATA / "northwind-invoice.html"]


class LineItem(BaseModel):
    description: str = Field(description="What was billed, as written on the invoice")
    amount: float = Field(description="The line's amount before tax")


class Invoice(BaseModel):
    invoice_number: str = Field(description="The invoice's number, e.g. NW-2041")
    vendor: str = Field(description="The company that issued the invoice")
    customer: str = Field(description="The company billed")
    invoice_date: date
    due_date: date | None = None
    purchase_order: str | None = Field(default=None, description="The customer's PO number")
    line_items: list[LineItem] = Field(default_factory=list, description="Each billed line")
    subtotal: float | None = Field(default=None, description="The total before tax")
    tax: float | None = Field(default=None, description="The tax amount")
    total: float = Field(description="The amount due, tax included")


class CheckedInvoiceExtraction(ExtractionWorkflow[Invoice]):
    """The default merge, then the invoice's arithmetic: a total that does not add up gets
    a low confidence, so `review="low_confidence"` shows it to a person with the reason."""

    def merge_fields(
        self, candidates: list[Candidate], specs: dict[str, FieldSpec]
    ) -> dict[str, FieldEvidence]:
        fields = super().merge_fields(candidates, specs)
        if arithmetic_problem(fields) is not None:
            total = fields["total"]
            fields["total"] = total.model_copy(update={"confidence": min(total.confidence, 0.3)})
        return fields

    def review_reasons(
        self, fields: dict[str, FieldEvidence], specs: dict[str, FieldSpec]
    ) -> list[str]:
        problem = arithmetic_problem(fields)
        return super().review_reasons(fields, specs) + ([problem] if problem else [])


def arithmetic_problem(fields: dict[str, FieldEvidence]) -> str | None:
    """Why the amounts do not add up, or None when they do (or are not all there)."""
    items = fields["line_items"].value or []
    subtotal, tax, total = (fields[name].value for name in ("subtotal", "tax", "total"))
    if items and subtotal is not None:
        added = round(sum(item["amount"] for item in items), 2)
        if abs(added - subtotal) > 0.005:
            return f"total: the line items add up to {added}, the subtotal says {subtotal}"
    if None not in (subtotal, tax, total) and abs(subtotal + tax - total) > 0.005:
        return f"total: subtotal {subtotal} plus tax {tax} is not the total {total}"
    return None


def ask_on_console(review: ReviewRequired) -> ReviewResponse:
    """Show the draft and why it needs a look, and read the answer from a line: empty
    approves, a JSON object corrects fields, anything else is feedback for another look.
    At the end of input (`< /dev/null`, a file of answers used up) the draft is approved as
    it stands."""
    print(json.dumps(review.data, indent=2))
    for reason in [*review.problems, *review.reasons]:
        print(f"  ! {reason}")
    try:
        answer = input(review.prefix)
    except EOFError:
        print()  # end the prompt's line
        return ReviewResponse(approved=True)
    return ReviewResponse.from_text(answer)


async def main(llm: LLM, files: list[Path] | None = None) -> "ExtractionResult[Invoice]":
    """Extract an `Invoice` from `files`, printing progress, then the result as JSON."""
    workflow = CheckedInvoiceExtraction(
        llm=llm,
        schema=Invoice,
        review="low_confidence",
        # The sample files are one invoice twice (text and HTML): its lines once, not twice.
        # Files named on the command line are parts of one invoice, each adding its lines.
        files_are_copies=not files,
    )
    handler = workflow.run(files=files or DEFAULT_FILES)
    async for ev in handler.stream_events():
        if isinstance(ev, FileProgress) and ev.stage in ("chunked", "done"):
            print(f"{Path(ev.file).name}: {ev.stage} ({ev.chunks_total} chunks)")
        elif isinstance(ev, FileFailed):
            print(f"{Path(ev.file).name}: not read: {ev.reason}")
        elif isinstance(ev, ReviewRequired):
            handler.ctx.send_event(ask_on_console(ev))
    result: ExtractionResult[Invoice] = await handler
    print(result.to_json())
    return result


def cli(argv: list[str]) -> int:
    """Run `main` with the model the environment names: 0 when the invoice is extracted;
    1 when it is incomplete (what was found on stdout, what is missing on stderr), or when
    nothing could be read or the model's server failed, said in one line on stderr; 2 when
    no server is configured."""
    import openai

    from agentflow.errors import WorkflowTimeoutError
    from agents.llm import (
        LLMConfigurationError,
        LLMError,
        OpenAI,
        add_llm_timeout_option,
        one_line_with_notes,
    )

    parser = argparse.ArgumentParser(description="Extract an invoice, with evidence.")
    parser.add_argument("files", nargs="*", type=Path, help="default: the sample invoice")
    add_llm_timeout_option(parser)
    args = parser.parse_args(argv)
    try:
        llm = OpenAI.from_env(timeout=args.llm_timeout)
    except LLMConfigurationError as error:
        print(f"examples/extract_invoice.py needs a model server: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(main(llm, args.files or None))
    except IncompleteExtractionError as error:
        # What was found is kept on the error: print it, then what is missing.
        print(json.dumps(error.partial, indent=2, default=str))
        print(
            "examples/extract_invoice.py: the invoice is incomplete (found so far: above)",
            *[f"  {field}: {problem}" for field, problem in error.problems.items()],
            *[f"  {file} was not read: {reason}" for file, reason in error.failed_files.items()],
            *[f"  {chunk}: {reason}" for chunk, reason in error.failed_chunks.items()],
            sep="\n",
            file=sys.stderr,
        )
        return 1
    except (DocumentExtractionError, LLMError, openai.APIError, WorkflowTimeoutError) as error:
        # A chunk's LLM call that failed as every chunk's would (a timeout, a server down)
        # ends the run with ChunkExtractionError, whose message names the chunk and the
        # client's error.
        print(f"examples/extract_invoice.py: {one_line_with_notes(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
