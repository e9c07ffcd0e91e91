"""Search adapters and URL normalisation: a backend, a `tools` tool or an async callable
all act as a `SearchBackend`; URLs of one page normalise to one key."""

from __future__ import annotations

import pytest

from agents.research import (
    CallableSearch,
    SearchBackendError,
    SearchHit,
    as_search_backend,
    normalize_url,
)
from tools import FunctionTool


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://example.org/a", "http://www.Example.ORG/a/"),
        ("https://example.org/a?utm_source=x&b=2&a=1", "https://example.org/a?a=1&b=2"),
        ("https://example.org/a#section", "https://example.org:443/a"),
        ("https://example.org/a?gclid=1", "https://example.org/a"),
    ],
)
def test_urls_of_one_page_share_a_key(first: str, second: str) -> None:
    assert normalize_url(first) == normalize_url(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://example.org/a", "https://example.org/b"),
        ("https://example.org/a?id=1", "https://example.org/a?id=2"),
        ("https://example.org:8080/a", "https://example.org/a"),
        ("https://a.example.org/x", "https://b.example.org/x"),
    ],
)
def test_different_pages_keep_different_keys(first: str, second: str) -> None:
    assert normalize_url(first) != normalize_url(second)


async def test_an_async_callable_returning_dicts_is_a_backend() -> None:
    async def find(query: str, k: int) -> list[dict[str, str]]:
        return [{"url": f"https://example.org/{n}", "title": query} for n in range(5)]

    backend = as_search_backend(find)

    hits = await backend.search("cells", 2)
    assert hits == [
        SearchHit(url="https://example.org/0", title="cells"),
        SearchHit(url="https://example.org/1", title="cells"),
    ]


async def test_a_tool_is_a_backend_and_its_errors_are_backend_errors() -> None:
    def web_search(query: str, k: int) -> list[dict[str, str]]:
        """Search the web."""
        if query == "fail":
            raise RuntimeError("quota exhausted")
        return [{"url": "https://example.org/x", "title": "X", "snippet": query}]

    backend = as_search_backend(FunctionTool.from_defaults(web_search))
    assert isinstance(backend, CallableSearch)
    assert backend.name == "web_search"

    assert await backend.search("cells", 3) == [
        SearchHit(url="https://example.org/x", title="X", snippet="cells")
    ]
    with pytest.raises(SearchBackendError, match="web_search failed for query 'fail'"):
        await backend.search("fail", 3)


async def test_malformed_results_are_backend_errors() -> None:
    async def bad(query: str, k: int) -> object:
        return [{"title": "no url"}]

    async def not_a_list(query: str, k: int) -> object:
        return 42

    with pytest.raises(SearchBackendError, match="a hit is malformed"):
        await as_search_backend(bad).search("q", 3)
    with pytest.raises(SearchBackendError, match="returned a int, not a list"):
        await as_search_backend(not_a_list).search("q", 3)


def test_anything_else_is_refused() -> None:
    with pytest.raises(TypeError, match="search must be a SearchBackend"):
        as_search_backend(42)
