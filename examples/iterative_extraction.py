"""Iterative extraction: say what you want in words, approve the schema the model proposes
(or edit it, or say what to change), then get the data with a quote behind every field.

    OPENAI_API_KEY=sk-... python examples/iterative_extraction.py
    OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_MODEL=local \
        python examples/iterative_extraction.py --prompt "the rent and the deposit" my-lease.pdf

Works with OpenAI or any OpenAI-compatible server that supports `response_format` JSON
schemas: set `OPENAI_API_KEY`, `OPENAI_BASE_URL`, or both; `OPENAI_MODEL` picks the model
and `--llm-timeout SECONDS` (or `OPENAI_TIMEOUT`) gives a slow server more time. Without
file arguments it reads the sample lease in `examples/data/`.

On the terminal, each proposed schema is shown with its fields' descriptions; answer with
an empty line (or "y") to approve it, a JSON object (on one line) to replace it with your
edit, or anything else as feedback the model revises it with. The extracted data then goes
to review when a value is doubtful (answered the same way: empty approves, a JSON object
corrects fields, words are feedback). At the end of input (`< /dev/null`) what is shown is
approved. The script prints each field's value with the quotes it rests on, then the data
as JSON; a run that fails says so in one line on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from agents.documents import (
    DocumentExtractionError,
    ExtractionResult,
    FieldEvidence,
    FileFailed,
    FileProgress,
    IncompleteExtractionError,
    ReviewRequired,
    ReviewResponse,
    SchemaApproved,
    SchemaProposalWorkflow,
    SchemaProposed,
    SchemaReview,
)
from agents.llm import LLM

DEFAULT_FILES = [Path(__file__).parent / "data" / "maple-court-lease.txt"]
DEFAULT_PROMPT = "the parties, the dates, the rent and the deposit of this lease"


async def read_line(prefix: str) -> str | None:
    """A line from the terminal, None at the end of input. Read in a thread, so the run
    goes on streaming while a person types."""
    try:
        return await asyncio.to_thread(input, prefix)
    except EOFError:
        print()  # end the prompt's line
        return None


def show_schema(proposed: SchemaProposed) -> None:
    """The proposal as JSON, then one line per field: name, type, description."""
    print(f"\nProposed schema ({proposed.proposal}):")
    print(json.dumps(proposed.json_schema, indent=2))
    for name, field in proposed.json_schema.get("properties", {}).items():
        print(f"  - {name} ({field.get('type', '?')}): {field.get('description', '')}")
    for problem in proposed.problems:
        print(f"  ! {problem}")


async def answer_schema(proposed: SchemaProposed) -> SchemaReview:
    """Show the proposal and read the answer (empty approves, JSON edits, words are
    feedback); the end of input approves."""
    show_schema(proposed)
    line = await read_line(proposed.prefix)
    return SchemaReview(approved=True) if line is None else SchemaReview.from_text(line)


async def answer_review(review: ReviewRequired) -> ReviewResponse:
    """Show the draft data and why it needs a look, and read the answer."""
    print(json.dumps(review.data, indent=2))
    for reason in [*review.problems, *review.reasons]:
        print(f"  ! {reason}")
    line = await read_line(review.prefix)
    return ReviewResponse(approved=True) if line is None else ReviewResponse.from_text(line)


def show_evidence(name: str, evidence: FieldEvidence) -> None:
    """A field's value, status and quotes (each with its file, page and whether it was
    verified)."""
    print(f"{name} = {json.dumps(evidence.value)}  [{evidence.status}]")
    for quote in evidence.quotes:
        page = f", page {quote.page}" if quote.page is not None else ""
        mark = "verified" if quote.verified else quote.status.replace("_", " ")
        print(f'    "{quote.text}"  ({Path(quote.file).name}{page}; {mark})')


async def main(
    llm: LLM, prompt: str = DEFAULT_PROMPT, files: list[Path] | None = None
) -> ExtractionResult[dict[str, Any]]:
    """Propose a schema for `prompt`, agree on it on the terminal, extract it from `files`,
    print the evidence and the data."""
    workflow = SchemaProposalWorkflow(llm=llm, review="low_confidence")
    handler = workflow.run(prompt, files=files or DEFAULT_FILES)
    async for ev in handler.stream_events():
        if isinstance(ev, SchemaProposed):
            handler.ctx.send_event(await answer_schema(ev))
        elif isinstance(ev, SchemaApproved):
            print(f"Extracting {', '.join(ev.json_schema['properties'])}")
        elif isinstance(ev, FileProgress) and ev.stage in ("chunked", "done"):
            print(f"{Path(ev.file).name}: {ev.stage} ({ev.chunks_total} chunks)")
        elif isinstance(ev, FileFailed):
            print(f"{Path(ev.file).name}: not read: {ev.reason}")
        elif isinstance(ev, ReviewRequired):
            handler.ctx.send_event(await answer_review(ev))
    result: ExtractionResult[dict[str, Any]] = await handler
    print()
    for name, evidence in result.fields.items():
        show_evidence(name, evidence)
    for warning in result.warnings:
        print(f"  ! {warning}")
    print(json.dumps(result.data, indent=2))
    return result


def cli(argv: list[str]) -> int:
    """Run `main` with the model the environment names: 0 once the data is extracted; 1
    when the run fails (an incomplete record, no usable schema, the server's error), said
    in one line on stderr; 2 when no server is configured."""
    import openai

    from agentflow.errors import WorkflowTimeoutError
    from agents.llm import (
        LLMConfigurationError,
        LLMError,
        OpenAI,
        add_llm_timeout_option,
        one_line_with_notes,
    )

    parser = argparse.ArgumentParser(description="Propose a schema, approve it, extract.")
    parser.add_argument("files", nargs="*", type=Path, help="default: the sample lease")
    parser.add_argument("--prompt", default=DEFAULT_PROMPT, help="what to extract, in words")
    add_llm_timeout_option(parser)
    args = parser.parse_args(argv)
    try:
        llm = OpenAI.from_env(timeout=args.llm_timeout)
    except LLMConfigurationError as error:
        print(f"examples/iterative_extraction.py needs a model server: {error}", file=sys.stderr)
        return 2
    try:
        asyncio.run(main(llm, args.prompt, args.files or None))
    except IncompleteExtractionError as error:
        print(json.dumps(error.partial, indent=2, default=str))
        problems = "; ".join(f"{path}: {problem}" for path, problem in error.problems.items())
        print(f"examples/iterative_extraction.py: incomplete: {problems}", file=sys.stderr)
        return 1
    except (DocumentExtractionError, LLMError, openai.APIError, WorkflowTimeoutError) as error:
        print(f"examples/iterative_extraction.py: {one_line_with_notes(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
