"""`SourceFetcher`: a search hit's text, from the local corpus or the web.

A hit a `ReadableBackend` owns (a local corpus file) is read through that backend; any
other `http(s)` URL is fetched with `tools.builtin`'s `http_get` (public addresses only,
size and time limits, HTML reduced to its main text by trafilatura); anything else (a
`file://` path that no corpus owns, `ftp:`...) is refused, so a hit cannot make the
assistant open arbitrary local files. The text is cut to `max_chars` at a paragraph
boundary: that cut text is what the LLM reads and what quotes are checked against.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from agents.research.errors import SourceFetchError
from agents.research.search import ReadableBackend, SearchBackend, SearchHit
from tools.builtin.http import WebTools


class SourceFetcher:
    """Turns hits into (title, text)."""

    def __init__(self, web: WebTools | None = None, max_chars: int = 20_000) -> None:
        self.web = web or WebTools()
        """Fetches http(s) sources (its limits and address checks apply)."""
        self.max_chars = max_chars
        """The most characters of a source the LLM reads."""

    async def fetch(self, hit: SearchHit, backend: SearchBackend) -> tuple[str, str]:
        """The hit's title and text. Raises `SourceFetchError` for anything that fails."""
        try:
            if isinstance(backend, ReadableBackend) and backend.owns(hit.url):
                title, text = await backend.read(hit.url)
                title = title or hit.title
            elif urlsplit(hit.url).scheme.lower() in ("http", "https"):
                text = await self.web.http_get(hit.url)
                title = hit.title
            else:
                raise SourceFetchError(
                    hit.url, "only http(s) URLs and the local corpus's own files are read"
                )
        except SourceFetchError:
            raise
        except Exception as error:  # network, refusal, timeout, a non-text body...
            raise SourceFetchError(hit.url, f"{type(error).__name__}: {error}") from error
        if not text.strip():
            raise SourceFetchError(hit.url, "it has no text")
        return title or hit.url, cut_text(text, self.max_chars)


def cut_text(text: str, max_chars: int) -> str:
    """`text` cut to at most `max_chars`, at the last paragraph (else line) break inside
    the limit, so a quote is never half a sentence cut mid-word."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    for separator in ("\n\n", "\n", " "):
        cut = head.rfind(separator)
        if cut > max_chars // 2:
            return head[:cut]
    return head
