"""Web search backends over httpx: `TavilySearch` and `BraveSearch`.

Tavily: `POST https://api.tavily.com/search` with the key as a bearer token and a JSON body
(`query`, `max_results`, `search_depth`, `topic`, domain filters); hits come from
`results[]` (`url`, `title`, `content`, `score`). Brave: `GET
https://api.search.brave.com/res/v1/web/search?q=...&count=...` with the key in
`X-Subscription-Token`; hits come from `web.results[]` (`url`, `title`, `description`,
whose `<strong>` highlighting is taken out).

Every failure (HTTP status, timeout, a body that is not the expected JSON) is a
`SearchBackendError` naming the backend and the query; the workflow reports it and goes on.
Keys are never put in error messages. httpx comes with the `web` extra.
"""

from __future__ import annotations

import html
import os
import re
from typing import TYPE_CHECKING, Any

from agentflow.extras import extra_needed
from agents.research.errors import SearchBackendError
from agents.research.search import SearchHit

if TYPE_CHECKING:
    import httpx

_TAG = re.compile(r"<[^>]+>")


class _HTTPSearch:
    """What both backends share: the key, the client, turning failures into errors."""

    name = "search"
    env_var = ""

    def __init__(
        self,
        api_key: str | None,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        key = api_key or os.environ.get(self.env_var)
        if not key:
            raise ValueError(f"{self.name} needs an api_key (or the {self.env_var} variable)")
        self.api_key = key
        """The API key (sent in a header, never logged)."""
        self.timeout = timeout
        """Seconds a request may take."""
        self.transport = transport
        """An httpx transport to send through (None: httpx's default)."""

    async def _send(self, query: str, request: dict[str, Any]) -> Any:
        with extra_needed("web", type(self).__name__):
            import httpx

        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
                response = await client.request(**request)
        except httpx.HTTPError as error:
            raise SearchBackendError(self.name, query, f"{type(error).__name__}: {error}") from None
        if response.is_error:
            detail = response.text[:200].strip()
            raise SearchBackendError(
                self.name,
                query,
                f"HTTP {response.status_code} {response.reason_phrase}"
                + (f": {detail}" if detail else ""),
            )
        try:
            return response.json()
        except ValueError:
            raise SearchBackendError(self.name, query, "the response is not JSON") from None


class TavilySearch(_HTTPSearch):
    """Web search through Tavily's API (`TAVILY_API_KEY` when no key is given)."""

    name = "TavilySearch"
    env_var = "TAVILY_API_KEY"

    def __init__(
        self,
        api_key: str | None = None,
        *,
        search_depth: str = "basic",
        topic: str = "general",
        include_domains: list[str] | None = None,
        exclude_domains: list[str] | None = None,
        base_url: str = "https://api.tavily.com",
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(api_key, timeout, transport)
        self.search_depth = search_depth
        """"basic" or "advanced" (slower, costs more credits)."""
        self.topic = topic
        """"general", "news" or "finance"."""
        self.include_domains = include_domains or []
        """Only these domains, when given."""
        self.exclude_domains = exclude_domains or []
        """Never these domains."""
        self.base_url = base_url.rstrip("/")
        """The API root."""

    async def search(self, query: str, k: int) -> list[SearchHit]:
        """At most `k` (up to 20, Tavily's limit) hits for `query`."""
        body: dict[str, Any] = {
            "query": query,
            "max_results": max(1, min(k, 20)),
            "search_depth": self.search_depth,
            "topic": self.topic,
        }
        if self.include_domains:
            body["include_domains"] = self.include_domains
        if self.exclude_domains:
            body["exclude_domains"] = self.exclude_domains
        data = await self._send(
            query,
            {
                "method": "POST",
                "url": f"{self.base_url}/search",
                "json": body,
                "headers": {"Authorization": f"Bearer {self.api_key}"},
            },
        )
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise SearchBackendError(self.name, query, "the response has no 'results' list")
        return [
            SearchHit(
                url=item["url"],
                title=str(item.get("title") or ""),
                snippet=str(item.get("content") or ""),
                score=item.get("score") if isinstance(item.get("score"), int | float) else None,
            )
            for item in results
            if isinstance(item, dict) and isinstance(item.get("url"), str)
        ][:k]


class BraveSearch(_HTTPSearch):
    """Web search through the Brave Search API (`BRAVE_API_KEY` when no key is given)."""

    name = "BraveSearch"
    env_var = "BRAVE_API_KEY"

    def __init__(
        self,
        api_key: str | None = None,
        *,
        country: str | None = None,
        search_lang: str | None = None,
        safesearch: str = "moderate",
        base_url: str = "https://api.search.brave.com/res/v1",
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(api_key, timeout, transport)
        self.country = country
        """Two-letter country the results come from, or None for Brave's default."""
        self.search_lang = search_lang
        """Language of the results, or None for Brave's default."""
        self.safesearch = safesearch
        """"off", "moderate" or "strict"."""
        self.base_url = base_url.rstrip("/")
        """The API root."""

    async def search(self, query: str, k: int) -> list[SearchHit]:
        """At most `k` (up to 20, Brave's limit) hits for `query`."""
        params: dict[str, Any] = {
            "q": query,
            "count": max(1, min(k, 20)),
            "safesearch": self.safesearch,
        }
        if self.country:
            params["country"] = self.country
        if self.search_lang:
            params["search_lang"] = self.search_lang
        data = await self._send(
            query,
            {
                "method": "GET",
                "url": f"{self.base_url}/web/search",
                "params": params,
                "headers": {"Accept": "application/json", "X-Subscription-Token": self.api_key},
            },
        )
        if not isinstance(data, dict):
            raise SearchBackendError(self.name, query, "the response is not a JSON object")
        web = data.get("web") or {}  # absent when the query has no web results
        results = web.get("results", []) if isinstance(web, dict) else None
        if not isinstance(results, list):
            raise SearchBackendError(self.name, query, "'web.results' is not a list")
        return [
            SearchHit(
                url=item["url"],
                title=_plain(item.get("title")),
                snippet=_plain(item.get("description")),
            )
            for item in results
            if isinstance(item, dict) and isinstance(item.get("url"), str)
        ][:k]


def _plain(value: Any) -> str:
    # Brave highlights the query's words with <strong> and escapes entities.
    return html.unescape(_TAG.sub("", str(value or ""))).strip()
