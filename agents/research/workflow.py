"""`ResearchWorkflow`: plan, search and read in parallel, fill gaps, write, check citations.

```
 ResearchStart ─> plan ─> PlanDrafted ─> review (PlanReview ⇄ human, with review_plan=True;
                                              │  feedback ⇄ revise, the LLM's revision)
                                              │
                                              v
   ┌──────────────────────────────────> RoundStart ─> start_round
   │                                                     │ one SearchRequest per new query
   │                                                     v
   │                       search (≤ max_parallel at once) ─> SearchResults
   │                                                     │
   │                 select_sources: all results in, de-duplicated by normalised URL,
   │                                 at most max_sources in all ─> one ReadRequest each
   │                                                     v
   │                         read (≤ max_parallel at once): fetch, LLM notes, quotes checked
   │                                                     │ ReadResult
   │                                      gather_reads ──┘ all reads in ─> RoundRead
   │                                                     v
   └──── missing, round < max_rounds ───────────── find_gaps ── nothing missing ─> WriteRequest
                                                                                     │
          ResearchReport <── check (citations, in code) <── DraftWritten <── write (ReportDelta)
                               │                                              ^
                               └─ cites nothing, notes read, retries left ────┘
                                  (RewriteRequested; WriteRequest with the draft)
```

Each box is a step a subclass may override on its own, and each step's LLM call is a method
(`make_plan`, `revise_plan`, `take_notes`, `name_gaps`, `write_prompt`, `rewrite_prompt`)
for narrower changes. The `plan`, `review` and `revise` steps and `run()`'s input live in
the base class `ResearchPlanning` (`planning.py`), the `write` and `check` steps in
`ResearchWriting` (`writing.py`); the rounds are here. No step makes more than one LLM
call, so with a store a resumed run asks none of its completed calls again; a structured
reply that fails its schema is re-asked within the call, each attempt's reply journalled
(`astructured_predict(..., once=...)`), so a crash during a re-ask repeats only the attempt
in flight.

A draft that cites no source, though notes were read (small models write plain prose), is
not passed as checked: `check` sends it back to `write` with a request to cite, at most
`max_citation_retries` times, and the report of a final draft still citing nothing is
`uncited`, with a warning.

Failures that leave something to go on with do not end the run: a search that fails is a
`SearchFailed`, a source that cannot be fetched or read a `SourceFailed`, each also a
`ResearchWarning`. LLM usage is booked in the context's `UsageLedger` (`MeteredLLM`), so a
budget set there bounds the run, and the report carries what this run used.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from agentflow import Context, step
from agents.kit.reply_failures import PIECE_FAILURES
from agents.kit.run_limit import RunLimit
from agents.llm.metered import MeteredLLM
from agents.llm.protocol import LLM
from agents.research import prompts
from agents.research.citations import quote_in_text
from agents.research.corpus import LocalCorpusSearch
from agents.research.errors import ResearchWarning, SourceFetchError
from agents.research.events import (
    ReadRequest,
    ReadResult,
    RoundFinished,
    RoundRead,
    RoundStart,
    SearchFailed,
    SearchRequest,
    SearchResults,
    SearchStarted,
    SourceFailed,
    SourceRead,
    WriteRequest,
)
from agents.research.report import (
    GapReport,
    ResearchPlan,
    SourceNotes,
    SourceText,
    SubQuestion,
)
from agents.research.run_state import ResearchState, ResearchWorkflowState
from agents.research.search import SearchBackend, SearchHit, as_search_backend, normalize_url
from agents.research.sources import SourceFetcher
from agents.research.writing import ResearchWriting

_READ_FAILURES: tuple[type[Exception], ...] = (SourceFetchError, *PIECE_FAILURES)
"""A source that cannot be fetched, or whose notes reply cannot be used, costs that source
only (the kit's policy, `agents.kit.reply_failures`); anything else ends the run."""


class ResearchWorkflow(ResearchWriting):
    """A research assistant: `await ResearchWorkflow(llm=..., search=...).run(query=...)`
    gives a `ResearchReport` whose every citation names a source that was read."""

    hits_per_query = 5
    """Hits asked of the backend per query."""
    max_notes_per_source = 6
    """Notes the reader may take from one source."""

    def __init__(
        self,
        llm: LLM | None = None,
        search: Any = None,
        max_rounds: int = 3,
        max_sources: int = 12,
        max_parallel: int = 4,
        review_plan: bool = False,
        *,
        fetcher: SourceFetcher | None = None,
        max_citation_retries: int = 1,
        timeout: float | None = 900.0,
        **workflow_kwargs: Any,
    ) -> None:
        """`search` is a `SearchBackend`, a `tools` tool or async callable `(query, k)`, or
        a folder path for a `LocalCorpusSearch`. `fetcher` reads web hits (its `WebTools`
        sets the limits). `max_citation_retries` is how many times a draft that cites no
        source is sent back to the writer (0: never). `timeout` is the whole run's."""
        super().__init__(timeout=timeout, **workflow_kwargs)
        if llm is None:
            raise TypeError("ResearchWorkflow needs an llm, e.g. llm=OpenAI('gpt-4o-mini')")
        if search is None:
            raise TypeError(
                "ResearchWorkflow needs a search backend, e.g. search=LocalCorpusSearch('docs/')"
            )
        for name, value in (("max_rounds", max_rounds), ("max_sources", max_sources)):
            if value < 1:
                raise ValueError(f"ResearchWorkflow: {name} must be at least 1, got {value}")
        if max_parallel < 1:
            raise ValueError(
                f"ResearchWorkflow: max_parallel must be at least 1, got {max_parallel}"
            )
        if max_citation_retries < 0:
            raise ValueError(
                "ResearchWorkflow: max_citation_retries must be at least 0, got "
                f"{max_citation_retries}"
            )
        self.llm = llm
        """The chat model every step uses."""
        if isinstance(search, str | Path):
            search = LocalCorpusSearch(search)
        self.search_backend: SearchBackend = as_search_backend(search)
        """Where sources are found."""
        self.max_rounds = max_rounds
        """Search-and-read rounds at most."""
        self.max_sources = max_sources
        """Sources chosen for reading at most, over all rounds (one that fails counts)."""
        self.max_parallel = max_parallel
        """Searches and reads of one run at the same time, at most."""
        self.review_plan = review_plan
        """Whether the plan waits for a human (`PlanReview`) before searching."""
        self.fetcher = fetcher or SourceFetcher()
        """Turns hits into text."""
        self.max_citation_retries = max_citation_retries
        """Rewrites asked, at most, of a draft that cites no source while notes were read."""

    # -- steps --------------------------------------------------------------------------

    @step
    async def start_round(
        self, ctx: Context[ResearchWorkflowState], ev: RoundStart
    ) -> SearchRequest | RoundRead | None:
        """Send one `SearchRequest` per query not run before."""
        requests: list[SearchRequest] = []
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            for sub in ev.sub_questions:
                for query in sub.queries:
                    folded = " ".join(query.split()).casefold()
                    if not folded or folded in run.queries_run:
                        continue
                    run.queries_run.append(folded)
                    requests.append(
                        SearchRequest(
                            round=ev.round,
                            sub_question=sub.question,
                            query=query,
                            index=len(requests),
                        )
                    )
            run.round = ev.round
            run.pending_searches = len(requests)
        if not requests:
            return RoundRead(round=ev.round, new_sources=0)
        for request in requests:
            ctx.write_event_to_stream(
                SearchStarted(
                    round=ev.round, sub_question=request.sub_question, query=request.query
                )
            )
            ctx.send_event(request)
        return None

    @step(num_workers=16)  # the real bound is max_parallel, through the run's RunLimit
    async def search(
        self, ctx: Context[ResearchWorkflowState], ev: SearchRequest, limit: RunLimit
    ) -> SearchResults:
        """Run one query; a failure is reported and gives no hits."""
        try:
            async with limit:
                hits = await self.search_backend.search(ev.query, self.hits_per_query)
        except Exception as error:  # any backend's failure: report it, go on without it
            message = str(error) or type(error).__name__
            ctx.write_event_to_stream(SearchFailed(round=ev.round, query=ev.query, error=message))
            warnings.warn(f"search failed: {message}", ResearchWarning, stacklevel=1)
            return SearchResults(request=ev, error=message)
        return SearchResults(request=ev, hits=hits)

    @step(num_workers=1)  # one collector: the round's results meet in one buffer
    async def select_sources(
        self, ctx: Context[ResearchWorkflowState], ev: SearchResults
    ) -> ReadRequest | RoundRead | None:
        """Once every search of the round is in, choose the new sources: de-duplicated by
        normalised URL (this round and earlier ones), taken in turn from each query's
        ranking, up to `max_sources` chosen in all; send one `ReadRequest` each."""
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            results = ctx.collect_events(ev, SearchResults, count=run.pending_searches)
            if results is None:
                return None
            requests = self._choose_sources(run, results, ev.request.round)
        if not requests:
            return RoundRead(round=ev.request.round, new_sources=0)
        for request in requests:
            ctx.send_event(request)
        return None

    def _choose_sources(
        self, state: ResearchState, results: list[SearchResults], round_number: int
    ) -> list[ReadRequest]:
        results.sort(key=lambda result: result.request.index)
        state.failed += sum(1 for result in results if result.error is not None)
        chosen: dict[str, tuple[SearchHit, list[str]]] = {}
        budget = self.max_sources - (state.next_source_id - 1)
        depth = max((len(result.hits) for result in results), default=0)
        for rank in range(depth):  # rank 0 of every query, then rank 1, ...
            for result in results:
                if rank >= len(result.hits):
                    continue
                hit = result.hits[rank]
                key = normalize_url(hit.url)
                if key in chosen:
                    if result.request.sub_question not in chosen[key][1]:
                        chosen[key][1].append(result.request.sub_question)
                elif key not in state.seen_urls and len(chosen) < budget:
                    chosen[key] = (hit, [result.request.sub_question])
        requests = []
        for key, (hit, sub_questions) in chosen.items():
            state.seen_urls.append(key)
            requests.append(
                ReadRequest(
                    round=round_number,
                    source_id=state.next_source_id,
                    hit=hit,
                    sub_questions=sub_questions,
                )
            )
            state.next_source_id += 1
        state.pending_reads = len(requests)
        return requests

    @step(num_workers=16)  # the real bound is max_parallel, through the run's RunLimit
    async def read(
        self, ctx: Context[ResearchWorkflowState], ev: ReadRequest, limit: RunLimit
    ) -> ReadResult:
        """Fetch one source and have the LLM take notes; notes whose quote is not in the
        text are dropped here, in code. A failure is reported and reads nothing."""
        query = await self.run_query(ctx)
        try:
            async with limit:
                title, text = await self.fetcher.fetch(ev.hit, self.search_backend)
                notes = await self.take_notes(ctx, query, ev, title, text)
        except _READ_FAILURES as error:
            message = str(error)
            ctx.write_event_to_stream(SourceFailed(round=ev.round, url=ev.hit.url, error=message))
            warnings.warn(f"source skipped: {message}", ResearchWarning, stacklevel=1)
            return ReadResult(request=ev, error=message)
        except Exception as error:  # the run ends; say which of the parallel reads failed
            error.add_note(f"while reading source [{ev.source_id}] {ev.hit.url}")
            raise
        kept = [note for note in notes.notes if quote_in_text(note.quote, text)]
        source = SourceText(
            id=ev.source_id,
            url=ev.hit.url,
            title=title,
            text=text,
            notes=kept,
            relevant=notes.relevant,
            round=ev.round,
        )
        ctx.write_event_to_stream(
            SourceRead(
                round=ev.round,
                source_id=ev.source_id,
                url=ev.hit.url,
                title=title,
                notes=len(kept),
                dropped_notes=len(notes.notes) - len(kept),
            )
        )
        return ReadResult(request=ev, source=source)

    @step(num_workers=1)  # one collector: the round's reads meet in one buffer
    async def gather_reads(
        self, ctx: Context[ResearchWorkflowState], ev: ReadResult
    ) -> RoundRead | None:
        """Once every read of the round is in, keep the sources that were read, by id."""
        async with ctx.store.edit_state() as state:
            run = state.current_run()
            results = ctx.collect_events(ev, ReadResult, count=run.pending_reads)
            if results is None:
                return None
            read = sorted(
                (result.source for result in results if result.source is not None),
                key=lambda source: source.id,
            )
            run.sources.extend(read)
            run.failed += len(results) - len(read)
        return RoundRead(round=ev.request.round, new_sources=len(read))

    @step
    async def find_gaps(
        self, ctx: Context[ResearchWorkflowState], ev: RoundRead
    ) -> RoundStart | WriteRequest:
        """Ask the LLM what is still unanswered; run another round for it while rounds and
        sources are left, else go on to writing."""
        async with ctx.store.edit_state() as current:
            # Read, not changed: no other step of the run goes on while this one asks.
            state = current.current_run()
        missing: list[SubQuestion] = []
        # Sources chosen so far (read or failed) count against max_sources.
        if ev.round < self.max_rounds and state.next_source_id - 1 < self.max_sources:
            gaps = ResearchPlan(sub_questions=(await self.name_gaps(ctx, state)).missing)
            # Capped as the plan is: a model listing twenty queries must not run twenty.
            capped = gaps.capped(self.max_sub_questions, self.queries_per_question)
            missing = [sub for sub in capped.sub_questions if sub.queries]
        ctx.write_event_to_stream(
            RoundFinished(
                round=ev.round,
                new_sources=ev.new_sources,
                sources_read=len(state.sources),
                missing=[sub.question for sub in missing],
                next_round=bool(missing),
            )
        )
        if missing:
            return RoundStart(round=ev.round + 1, sub_questions=missing)
        return WriteRequest(rounds=ev.round)

    # -- the LLM calls and pieces the steps share; override to change one behaviour -----

    async def take_notes(
        self, ctx: Context[Any], query: str, request: ReadRequest, title: str, text: str
    ) -> SourceNotes:
        """The LLM's notes on one source (quotes are checked by the caller)."""
        messages = prompts.read_messages(
            query, request.sub_questions, title, request.hit.url, text, self.max_notes_per_source
        )
        notes = await MeteredLLM(self.llm, ctx).astructured_predict(
            SourceNotes, messages, once="notes"
        )
        notes.notes = notes.notes[: self.max_notes_per_source]
        return notes

    async def name_gaps(self, ctx: Context[Any], state: ResearchState) -> GapReport:
        """The LLM's list of what the notes so far leave unanswered."""
        messages = prompts.gaps_messages(
            state.query, state.queries_run, state.sources, self.max_sub_questions
        )
        return await MeteredLLM(self.llm, ctx).astructured_predict(GapReport, messages, once="gaps")
