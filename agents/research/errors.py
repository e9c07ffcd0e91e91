"""Exceptions and the warning the research assistant raises; each message names the
backend, query, URL or file concerned.

A failing search backend or an unreadable source does not end a run: the workflow turns
these errors into `SearchFailed`/`SourceFailed` events and a `ResearchWarning`, and goes
on with what it has. They are raised through only where nothing can go on (a corpus
folder that does not exist, a plan with nothing to research).
"""

from __future__ import annotations

from agents.llm.errors import EmptyResponseError, empty_stream_message


class ResearchError(Exception):
    """Base class of the research assistant's own errors."""


class SearchBackendError(ResearchError):
    """A search backend could not answer a query (HTTP error, bad response, timeout)."""

    def __init__(self, backend: str, query: str, reason: str) -> None:
        self.backend = backend
        """The backend's name (`TavilySearch`, a tool's name, ...)."""
        self.query = query
        """The query it was asked."""
        self.reason = reason
        """What went wrong."""
        super().__init__(f"search backend {backend} failed for query {query!r}: {reason}")


class SourceFetchError(ResearchError):
    """A search hit's URL could not be turned into text to read."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        """The source that could not be read."""
        self.reason = reason
        """What went wrong."""
        super().__init__(f"cannot read source {url}: {reason}")


class CorpusError(ResearchError):
    """The local corpus cannot be used: its folder is missing, or a file is not its own."""


class PlanError(ResearchError):
    """The plan cannot be used: it has no sub-question with a query to search."""


class EmptyReportError(ResearchError, EmptyResponseError):
    """The writer's reply held no text, although there were notes to write from. Raised
    rather than ending the run with an empty report, which would look like an answer. It
    is also an `EmptyResponseError`, as an agent's empty reply is."""

    def __init__(self, model: str, finish_reason: str | None) -> None:
        subject = f"the report written by model {model!r} is empty"
        # Not EmptyResponseError.__init__: its message says the server sent no choices.
        Exception.__init__(self, empty_stream_message(subject, finish_reason))
        self.model = model
        """The model that wrote."""
        self.finish_reason = finish_reason
        """Why the model stopped, as the stream said; None when it did not say."""


class ResearchWarning(UserWarning):
    """Something a run skipped and went on without: a failed search, an unreadable source,
    a note whose quote is not in its source."""
