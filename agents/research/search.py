"""Search backends: the `SearchBackend` protocol, `SearchHit`, and adapters.

A backend is anything with `async search(query, k) -> list[SearchHit]`:
`LocalCorpusSearch` (files in a folder, BM25, the offline default), `TavilySearch` and
`BraveSearch` (web APIs). `as_search_backend` also takes a `tools` tool or a plain async
callable with the parameters `(query, k)` returning hits or dicts with `url`, `title` and
`snippet`, so an existing search function plugs in without a class.

A backend that can also give a hit's text itself (`read(url)`, as the local corpus does) is
a `ReadableBackend`; other hits are fetched over HTTP.

`normalize_url` is the key hits are de-duplicated by: the same page reached through
`http://www.x.org/a/?utm_source=feed#top` and `https://x.org/a` is read once.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ValidationError

from agents.research.errors import SearchBackendError


class SearchHit(BaseModel):
    """One search result."""

    url: str
    """Where the source is (`https://...`, or `file://...` for the local corpus)."""
    title: str = ""
    """Its title."""
    snippet: str = ""
    """The backend's excerpt of it."""
    score: float | None = None
    """The backend's relevance score, when it gives one."""


@runtime_checkable
class SearchBackend(Protocol):
    """Finds sources for a query."""

    async def search(self, query: str, k: int) -> list[SearchHit]:
        """At most `k` hits for `query`, best first. Raises `SearchBackendError`."""
        ...


@runtime_checkable
class ReadableBackend(SearchBackend, Protocol):
    """A backend that gives the text of its own hits (no HTTP fetch needed)."""

    def owns(self, url: str) -> bool:
        """Whether `url` is one of this backend's documents."""
        ...

    async def read(self, url: str) -> tuple[str, str]:
        """The document's title and full text."""
        ...


SearchFunction = Callable[[str, int], Awaitable[Sequence[Any]]]
"""An async callable `(query, k) -> hits` usable as a backend."""


class CallableSearch:
    """A `SearchBackend` over an async callable or a `tools` tool taking `query` and `k`."""

    def __init__(self, function: Any, name: str | None = None) -> None:
        self.function = function
        """The callable or tool."""
        self.name = name or _name_of(function)
        """Names the backend in errors and events."""

    async def search(self, query: str, k: int) -> list[SearchHit]:
        """Call the function and read its hits."""
        try:
            if _is_tool(self.function):
                output = await self.function.acall(query=query, k=k)
                if output.is_error:
                    raise SearchBackendError(self.name, query, str(output.content))
                raw = output.raw_output
            else:
                raw = self.function(query, k)
                if inspect.isawaitable(raw):
                    raw = await raw
        except SearchBackendError:
            raise
        except Exception as error:
            raise SearchBackendError(
                self.name, query, f"{type(error).__name__}: {error}"
            ) from error
        return hits_from(raw, self.name, query)[:k]


def as_search_backend(search: Any) -> SearchBackend:
    """`search` as a `SearchBackend`: a backend as is, a tool or async callable wrapped."""
    if isinstance(search, SearchBackend) and not _is_tool(search):
        return search
    if _is_tool(search) or callable(search):
        return CallableSearch(search)
    raise TypeError(
        f"search must be a SearchBackend (async search(query, k)), a tools tool or an async "
        f"callable (query, k) -> hits; got {type(search).__name__}"
    )


def hits_from(raw: Any, backend: str, query: str) -> list[SearchHit]:
    """Hits from what a search function returned: `SearchHit`s, dicts, or JSON text of
    them (what a tool's text output holds)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as error:
            raise SearchBackendError(backend, query, f"returned text, not hits: {error}") from None
    if isinstance(raw, dict) and isinstance(raw.get("results"), list):
        raw = raw["results"]
    if not isinstance(raw, list | tuple):
        raise SearchBackendError(backend, query, f"returned a {type(raw).__name__}, not a list")
    hits = []
    for item in raw:
        try:
            hits.append(item if isinstance(item, SearchHit) else SearchHit.model_validate(item))
        except ValidationError as error:
            raise SearchBackendError(backend, query, f"a hit is malformed: {error}") from None
    return hits


def normalize_url(url: str) -> str:
    """The key two URLs of the same page share: scheme-less, host lower-cased without
    `www.` and default port, no fragment, no tracking parameters, sorted query, no trailing
    slash. Only used for comparing; a source is fetched from its own URL. A malformed URL
    (a bad port, an unclosed `[`) is its own key: its fetch fails and is reported, rather
    than one bad search hit ending the run."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    if scheme == "file":
        return urlunsplit(("file", "", parts.path, "", ""))
    host = (parts.hostname or "").lower().removeprefix("www.")
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(key)
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("", host, path, urlencode(query), ""))


_TRACKING_KEYS = frozenset({"gclid", "fbclid", "msclkid", "mc_cid", "mc_eid", "ref_src"})


def _is_tracking(key: str) -> bool:
    return key.lower().startswith("utm_") or key.lower() in _TRACKING_KEYS


def _is_tool(value: Any) -> bool:
    return hasattr(value, "acall") and hasattr(value, "metadata")


def _name_of(function: Any) -> str:
    if _is_tool(function):
        return str(function.metadata.name)
    return str(getattr(function, "__qualname__", None) or type(function).__name__)
