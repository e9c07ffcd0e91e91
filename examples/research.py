"""A research assistant over local files: plans, searches, reads, writes, checks citations.

    OPENAI_API_KEY=sk-... python examples/research.py "How should R-200 batteries be stored?"
    OPENAI_BASE_URL=http://localhost:11434/v1 OPENAI_MODEL=qwen2.5 python examples/research.py
    python examples/research.py --review "..."      # approve or change the plan first

The sources are the files in `examples/corpus/` (a made-up company's documents, searched
with BM25, no network needed); `--corpus DIR` picks another folder. Works with OpenAI or any
OpenAI-compatible server that supports JSON-schema structured output: set `OPENAI_API_KEY`,
`OPENAI_BASE_URL`, or both; `OPENAI_MODEL` picks the model (default gpt-4o-mini); a slow
server gets more time with `--llm-timeout SECONDS` (or `OPENAI_TIMEOUT`).

Progress is printed as the workflow streams it (plan, each search, each source read with
its notes, each round), then the report as it is written, then the checked report's
sources, any claim whose citation failed the check, and a warning when the report cites no
source at all (a draft citing nothing is sent back to the writer once first). With
`--review`, the end of input (`< /dev/null`) approves the plan. The same workflow runs
under the `agentflow` command:

    agentflow run examples/research.py:workflow --arg query="How should batteries be stored?"
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import warnings
from pathlib import Path
from typing import Any

from agentflow.events import HumanResponseEvent
from agents.llm import LLM
from agents.research import (
    LocalCorpusSearch,
    PlanCreated,
    PlanReview,
    ReportDelta,
    ResearchError,
    ResearchReport,
    ResearchWarning,
    ResearchWorkflow,
    RewriteRequested,
    RoundFinished,
    SearchFailed,
    SearchStarted,
    SourceFailed,
    SourceRead,
)

CORPUS = Path(__file__).resolve().parent / "corpus"
DEFAULT_QUESTION = "How should our R-200 robots' batteries be charged and stored to last longest?"


async def main(
    llm: LLM, question: str = DEFAULT_QUESTION, corpus: Path = CORPUS, review: bool = False
) -> ResearchReport:
    """Research `question` over `corpus`, printing progress and the report as it streams."""
    workflow = ResearchWorkflow(
        llm=llm, search=LocalCorpusSearch(corpus), max_rounds=2, review_plan=review
    )
    handler = workflow.run(query=question)
    async for ev in handler.stream_events():
        if isinstance(ev, PlanCreated):
            print(f"plan{f' (revision {ev.revision})' if ev.revision else ''}:")
            print(ev.plan.render())
        elif isinstance(ev, PlanReview):
            answer = await asyncio.to_thread(ask, "approve with Enter, or type changes: ")
            handler.ctx.send_event(HumanResponseEvent(response=answer))
        elif isinstance(ev, SearchStarted):
            print(f"  search (round {ev.round}): {ev.query}")
        elif isinstance(ev, SearchFailed):
            print(f"  search failed: {ev.query}: {ev.error}")
        elif isinstance(ev, SourceRead):
            notes = f"{ev.notes} notes"
            if ev.dropped_notes:  # the LLM's quote was not in the source: a note proves nothing
                notes += f", {ev.dropped_notes} dropped: quote not in the source"
            print(f"  read [{ev.source_id}] {ev.title} ({notes})")
        elif isinstance(ev, SourceFailed):
            print(f"  could not read {ev.url}: {ev.error}")
        elif isinstance(ev, RoundFinished):
            missing = f"; still missing: {'; '.join(ev.missing)}" if ev.missing else ""
            print(f"round {ev.round} done: {ev.sources_read} sources read{missing}\n")
        elif isinstance(ev, ReportDelta):
            print(ev.delta, end="", flush=True)
        elif isinstance(ev, RewriteRequested):  # the deltas that follow are a new draft
            print(f"\n\n[{ev.reason}: rewrite {ev.attempt}]\n")
    report = await handler
    assert isinstance(report, ResearchReport)
    print("\n\nSources:")
    for source in report.sources:
        print(f"  [{source.id}] {source.title}: {source.url}")
    if report.unverified:
        print("Claims that failed the citation check:")
        for claim in report.unverified:
            print(f"  - {claim.text} ({'; '.join(claim.problems)})")
    for warning in report.warnings:
        print(f"Warning: {warning}")
    print(
        f"[{len(report.claims)} verified claims, {len(report.unverified)} unverified, "
        f"{report.usage.total_tokens} tokens]"
    )
    return report


def ask(prompt: str) -> str:
    """A line typed at the terminal; at the end of input (`< /dev/null`) an empty line,
    which approves the plan."""
    try:
        return input(prompt)
    except EOFError:
        print()  # end the prompt's line
        return ""


def cli(argv: list[str]) -> int:
    """Run `main` with the model the environment names; 2 when no server is configured, 1
    when the run ends in an error, said in one line on stderr: the server failed or did not
    answer in time, the model refused, or the research could not go on (no usable plan, a
    corpus folder that is not there)."""
    import openai

    from agentflow.errors import WorkflowTimeoutError
    from agents.llm import (
        LLMConfigurationError,
        LLMError,
        OpenAI,
        add_llm_timeout_option,
        one_line_with_notes,
    )

    parser = argparse.ArgumentParser(description="Research a question over local files.")
    parser.add_argument("question", nargs="*", help=f"default: {DEFAULT_QUESTION}")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of sources")
    parser.add_argument("--review", action="store_true", help="review the plan first")
    add_llm_timeout_option(parser)
    args = parser.parse_args(argv)
    try:
        llm = OpenAI.from_env(timeout=args.llm_timeout)
    except LLMConfigurationError as error:
        print(f"examples/research.py needs a model server: {error}", file=sys.stderr)
        return 2
    question = " ".join(args.question) or DEFAULT_QUESTION
    try:
        with warnings.catch_warnings():
            # The report carries this warning, and main prints it: not twice.
            warnings.filterwarnings("ignore", "the report cites no source", ResearchWarning)
            asyncio.run(main(llm, question, args.corpus, args.review))
    # openai.APIError: the SDK's own (server down, bad key); WorkflowTimeoutError: the run's.
    except (LLMError, ResearchError, openai.APIError, WorkflowTimeoutError) as error:
        print(f"examples/research.py: {one_line_with_notes(error)}", file=sys.stderr)
        return 1
    return 0


def __getattr__(name: str) -> Any:
    # `agentflow run examples/research.py:workflow`: built when asked for, from the
    # environment (OpenAI.from_env), so importing this file needs no server.
    if name == "workflow":
        from agents.llm import OpenAI

        return ResearchWorkflow(
            llm=OpenAI.from_env(), search=LocalCorpusSearch(CORPUS), max_rounds=2
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
