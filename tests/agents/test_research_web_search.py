"""TavilySearch and BraveSearch at the wire (respx): the requests they send, the hits they
read from each API's response shape, errors that name the backend but never the key, and a
research run over Brave whose HTML pages are fetched with http_get and read as text."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import respx
from research_wire import ResearchModel, notes, plan

from agents.llm.openai.client import OpenAI
from agents.research import (
    BraveSearch,
    ResearchReport,
    ResearchWorkflow,
    SearchBackendError,
    SearchHit,
    Source,
    SourceFetcher,
    TavilySearch,
)
from tools.builtin.http import WebTools

TAVILY_URL = "https://api.tavily.com/search"
BRAVE_URL = "https://api.search.brave.com/res/v1/web/search"

TAVILY_RESPONSE = {
    "query": "solid state battery",
    "follow_up_questions": None,
    "answer": None,
    "images": [],
    "results": [
        {
            "title": "Solid-state batteries explained",
            "url": "https://example.org/solid",
            "content": "Solid-state cells replace the liquid electrolyte with a solid one.",
            "score": 0.83,
            "raw_content": None,
        },
        {
            "title": "Sodium-ion",
            "url": "https://example.com/sodium",
            "content": "Sodium-ion cells avoid lithium.",
            "score": 0.61,
            "raw_content": None,
        },
    ],
    "response_time": 1.2,
    "request_id": "123e4567-e89b-12d3-a456-426614174111",
}

BRAVE_RESPONSE = {
    "type": "search",
    "query": {"original": "solid state battery", "more_results_available": True},
    "mixed": {"type": "mixed", "main": [{"type": "web", "index": 0, "all": False}]},
    "web": {
        "type": "search",
        "family_friendly": True,
        "results": [
            {
                "type": "search_result",
                "subtype": "generic",
                "title": "Solid-state <strong>batteries</strong> explained",
                "url": "https://example.org/solid",
                "description": "<strong>Solid</strong>-state cells &amp; their electrolyte.",
                "is_source_local": False,
                "language": "en",
                "family_friendly": True,
                "meta_url": {"scheme": "https", "netloc": "example.org", "path": "\u203a solid"},
                "age": "March 3, 2025",
            }
        ],
    },
}


@pytest.fixture
def web() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True) as router:
        yield router


async def test_tavily_posts_the_query_with_a_bearer_key_and_reads_results(
    web: respx.MockRouter,
) -> None:
    route = web.post(TAVILY_URL).mock(return_value=httpx.Response(200, json=TAVILY_RESPONSE))
    backend = TavilySearch("tvly-secret", include_domains=["example.org"])

    hits = await backend.search("solid state battery", 3)

    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer tvly-secret"
    assert json.loads(request.content) == {
        "query": "solid state battery",
        "max_results": 3,
        "search_depth": "basic",
        "topic": "general",
        "include_domains": ["example.org"],
    }
    assert hits == [
        SearchHit(
            url="https://example.org/solid",
            title="Solid-state batteries explained",
            snippet="Solid-state cells replace the liquid electrolyte with a solid one.",
            score=0.83,
        ),
        SearchHit(
            url="https://example.com/sodium",
            title="Sodium-ion",
            snippet="Sodium-ion cells avoid lithium.",
            score=0.61,
        ),
    ]


async def test_brave_gets_with_the_subscription_token_and_strips_highlighting(
    web: respx.MockRouter,
) -> None:
    route = web.get(BRAVE_URL).mock(return_value=httpx.Response(200, json=BRAVE_RESPONSE))
    backend = BraveSearch("brave-secret", country="us")

    hits = await backend.search("solid state battery", 50)

    request = route.calls.last.request
    assert request.headers["x-subscription-token"] == "brave-secret"
    assert request.headers["accept"] == "application/json"
    assert dict(request.url.params) == {
        "q": "solid state battery",
        "count": "20",  # Brave's maximum
        "safesearch": "moderate",
        "country": "us",
    }
    assert hits == [
        SearchHit(
            url="https://example.org/solid",
            title="Solid-state batteries explained",
            snippet="Solid-state cells & their electrolyte.",
        )
    ]


async def test_brave_without_web_results_gives_no_hits(web: respx.MockRouter) -> None:
    web.get(BRAVE_URL).mock(
        return_value=httpx.Response(200, json={"type": "search", "query": {"original": "x"}})
    )

    assert await BraveSearch("k").search("zzzz", 5) == []


@pytest.mark.parametrize(
    ("backend", "method", "url"),
    [
        (TavilySearch("tvly-secret"), "POST", TAVILY_URL),
        (BraveSearch("brave-secret"), "GET", BRAVE_URL),
    ],
)
async def test_http_errors_name_backend_and_status_not_the_key(
    web: respx.MockRouter, backend: TavilySearch | BraveSearch, method: str, url: str
) -> None:
    web.route(method=method, url__startswith=url).mock(
        return_value=httpx.Response(429, json={"detail": {"error": "rate limit exceeded"}})
    )

    with pytest.raises(SearchBackendError) as raised:
        await backend.search("solid state", 5)

    message = str(raised.value)
    assert message.startswith(f"search backend {type(backend).__name__} failed for query")
    assert "HTTP 429 Too Many Requests" in message
    assert "rate limit exceeded" in message
    assert "secret" not in message


async def test_a_response_that_is_not_the_api_shape_is_a_backend_error(
    web: respx.MockRouter,
) -> None:
    web.post(TAVILY_URL).mock(return_value=httpx.Response(200, text="<html>maintenance</html>"))

    with pytest.raises(SearchBackendError, match="not JSON"):
        await TavilySearch("k").search("q", 5)


async def test_connection_failures_are_backend_errors(web: respx.MockRouter) -> None:
    web.get(BRAVE_URL).mock(side_effect=httpx.ConnectError("connection refused"))

    with pytest.raises(SearchBackendError, match="ConnectError: connection refused"):
        await BraveSearch("k").search("q", 5)


def test_keys_come_from_the_environment_or_are_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-env")
    monkeypatch.delenv("BRAVE_API_KEY", raising=False)
    assert TavilySearch().api_key == "tvly-env"
    with pytest.raises(ValueError, match="BRAVE_API_KEY"):
        BraveSearch()


ARTICLE = """<html><head><title>Solid-state batteries</title></head><body>
<nav><a href="/">Home</a> | <a href="/shop">Shop</a></nav>
<article><h1>Solid-state batteries explained</h1>
<p>Solid-state cells replace the liquid electrolyte with a solid ceramic or polymer layer,
which does not burn and allows a lithium metal anode.</p>
<p>Makers expect the first cars with such cells on the road later this decade, after
problems with cracking and manufacturing cost are solved.</p></article>
<footer>Copyright Example Media</footer></body></html>"""


async def test_a_research_run_over_brave_fetches_pages_as_text(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    brave = api.get(BRAVE_URL).mock(return_value=httpx.Response(200, json=BRAVE_RESPONSE))
    page = api.get("https://example.org/solid").mock(
        return_value=httpx.Response(200, text=ARTICLE, headers={"content-type": "text/html"})
    )
    quote = "does not burn and allows a lithium metal anode"
    model = ResearchModel(
        plans=[plan(("What are solid-state batteries?", ["solid state battery"]))],
        notes_by_url={"https://example.org/solid": notes(("They are safer.", quote))},
        gaps=[],
        report=[f'A solid electrolyte does not burn [1: "{quote}"].'],
    )
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ResearchWorkflow(
        llm=llm,
        search=BraveSearch("brave-secret"),
        max_rounds=1,
        fetcher=SourceFetcher(web=WebTools(allow_private=True)),  # no DNS in tests
    )

    report = await workflow.run(query="What are solid-state batteries?")

    assert brave.call_count == 1
    assert page.call_count == 1
    assert isinstance(report, ResearchReport)
    assert report.sources == [
        Source(id=1, url="https://example.org/solid", title="Solid-state batteries explained")
    ]
    assert report.answer_markdown == "A solid electrolyte does not burn [1]."
    assert report.claims[0].quotes == [quote]
    read_prompt = model.calls["SourceNotes"][0]["messages"][-1]["content"]
    assert "does not burn" in read_prompt
    assert "<p>" not in read_prompt
    assert "Shop" not in read_prompt  # trafilatura kept the article, not the navigation
