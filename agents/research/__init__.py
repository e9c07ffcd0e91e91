"""A research assistant whose citations are checked in code.

```python
from agents.llm import OpenAI
from agents.research import LocalCorpusSearch, ResearchWorkflow

workflow = ResearchWorkflow(llm=OpenAI("gpt-4o-mini"), search=LocalCorpusSearch("notes/"))
report = await workflow.run(query="What limits lithium-ion battery life?")
print(report.answer_markdown)     # cites [n] only for sources it read
print(report.unverified)          # claims whose citation or quote failed the check
```

It plans sub-questions (optionally reviewed by a human), searches and reads sources in
parallel, runs more rounds for what is still missing, streams the report, and checks every
citation against the text actually read. See `workflow.py` for the steps and
`docs/research.md` for the design.
"""

from __future__ import annotations

from agents.research.citations import CitationCheck, check_citations, quote_in_text
from agents.research.corpus import LocalCorpusSearch
from agents.research.errors import (
    CorpusError,
    EmptyReportError,
    PlanError,
    ResearchError,
    ResearchWarning,
    SearchBackendError,
    SourceFetchError,
)
from agents.research.events import (
    CitationsChecked,
    PlanCreated,
    PlanReview,
    PlanReviewResponse,
    ReportDelta,
    ResearchStart,
    RewriteRequested,
    RoundFinished,
    SearchFailed,
    SearchStarted,
    SourceFailed,
    SourceRead,
)
from agents.research.report import (
    Claim,
    Note,
    ResearchPlan,
    ResearchReport,
    Source,
    SubQuestion,
)
from agents.research.search import (
    CallableSearch,
    ReadableBackend,
    SearchBackend,
    SearchHit,
    as_search_backend,
    normalize_url,
)
from agents.research.sources import SourceFetcher
from agents.research.web_search import BraveSearch, TavilySearch
from agents.research.workflow import ResearchWorkflow

__all__ = [
    "BraveSearch",
    "CallableSearch",
    "CitationCheck",
    "CitationsChecked",
    "Claim",
    "CorpusError",
    "EmptyReportError",
    "LocalCorpusSearch",
    "Note",
    "PlanCreated",
    "PlanError",
    "PlanReview",
    "PlanReviewResponse",
    "ReadableBackend",
    "ReportDelta",
    "ResearchError",
    "ResearchPlan",
    "ResearchReport",
    "ResearchStart",
    "ResearchWarning",
    "ResearchWorkflow",
    "RewriteRequested",
    "RoundFinished",
    "SearchBackend",
    "SearchBackendError",
    "SearchFailed",
    "SearchHit",
    "SearchStarted",
    "Source",
    "SourceFailed",
    "SourceFetchError",
    "SourceFetcher",
    "SourceRead",
    "SubQuestion",
    "TavilySearch",
    "as_search_backend",
    "check_citations",
    "normalize_url",
    "quote_in_text",
]
