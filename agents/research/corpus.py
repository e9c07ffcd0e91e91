"""`LocalCorpusSearch`: BM25 search over a folder of text, markdown and PDF files.

The offline default backend. On the first search every file under `folder` is read
(`.pdf` through pypdf), split into passages of about `passage_chars`, and the passages are
indexed with bm25s (the `research` extra). A query ranks passages; hits are the documents
of the best passages, each once, with its best passage as the snippet. Indexing runs in a
daemon thread (`tools.threads.run_in_thread`), so a large corpus does not stall the event
loop, and a search given up halfway holds up nothing while it ends on its own.

Sources are named by `file://` URLs, and `read(url)` gives only this corpus's own
documents: a URL from elsewhere (a web hit, a path the LLM made up) is never opened as a
local file, and a symbolic link inside the folder to a file outside it is not indexed.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentflow.extras import extra_needed
from agents.research.errors import CorpusError, ResearchWarning
from agents.research.search import SearchHit
from tools.threads import run_in_thread

TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".rst", ".text")
"""File types read as text."""
PDF_SUFFIXES = (".pdf",)
"""File types read with pypdf."""


@dataclass(frozen=True, slots=True)
class CorpusDocument:
    """One file of the corpus."""

    url: str
    """Its `file://` URL."""
    title: str
    """The first markdown heading, the PDF's title, or the file name."""
    text: str
    """Its whole text."""


def light_stem(words: Sequence[str]) -> list[str]:
    """Fold common English plural and verb endings ("studies" -> "study", "measured" ->
    "measur") so a query finds other forms of its words. Deliberately small; pass a real
    stemmer (PyStemmer) as `stemmer=` for better recall."""
    stems = []
    for word in words:
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 5 and word.endswith(("ing", "ed")):
            word = word[: -3 if word.endswith("ing") else -2]
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        stems.append(word)
    return stems


class LocalCorpusSearch:
    """Search the text, markdown and PDF files under `folder` with BM25."""

    def __init__(
        self,
        folder: str | Path,
        *,
        suffixes: Iterable[str] = TEXT_SUFFIXES + PDF_SUFFIXES,
        passage_chars: int = 1200,
        stemmer: Any = light_stem,
        stopwords: str | list[str] = "en",
    ) -> None:
        """Raises `CorpusError` when `folder` is not a directory."""
        self.folder = Path(folder).expanduser().resolve()
        """The corpus root; every file under it with one of `suffixes` is indexed."""
        if not self.folder.is_dir():
            raise CorpusError(f"corpus folder {str(folder)!r} does not exist or is not a folder")
        self.suffixes = tuple(suffix.lower() for suffix in suffixes)
        """The file types indexed."""
        self.passage_chars = passage_chars
        """About how long a ranked passage is."""
        self.stemmer = stemmer
        """Given to bm25s: a callable over a word list, or an object with `stemWords`."""
        self.stopwords = stopwords
        """Given to bm25s: a language code or a word list."""
        self._lock = threading.Lock()
        self._documents: dict[str, CorpusDocument] | None = None
        self._passages: list[tuple[str, str]] = []  # (document url, passage text)
        self._index: Any = None

    @property
    def documents(self) -> dict[str, CorpusDocument]:
        """The corpus's documents by URL (read now, if not yet)."""
        self._build()
        assert self._documents is not None
        return self._documents

    async def search(self, query: str, k: int) -> list[SearchHit]:
        """The `k` documents whose passages best match `query`, best first."""
        return await run_in_thread(self._search, query, k)

    def owns(self, url: str) -> bool:
        """Whether `url` is a document of this corpus."""
        return url in self.documents

    async def read(self, url: str) -> tuple[str, str]:
        """The title and text of the document at `url`; `CorpusError` for a URL that is
        not one of this corpus's documents."""
        documents = await run_in_thread(lambda: self.documents)
        document = documents.get(url)
        if document is None:
            raise CorpusError(f"{url} is not a document of the corpus in {self.folder}")
        return document.title, document.text

    def _search(self, query: str, k: int) -> list[SearchHit]:
        with extra_needed("research", "LocalCorpusSearch"):
            import bm25s  # type: ignore[import-untyped]

        self._build()
        if self._index is None or k < 1:
            return []
        tokens = bm25s.tokenize(
            [query], stopwords=self.stopwords, stemmer=self.stemmer, show_progress=False
        )
        if not tokens.vocab:
            return []
        found = min(len(self._passages), k * 4)
        ids, scores = self._index.retrieve(tokens, k=found, show_progress=False)
        hits: dict[str, SearchHit] = {}
        for passage_id, score in zip(ids[0], scores[0], strict=True):
            if score <= 0 or len(hits) == k:
                break
            url, passage = self._passages[int(passage_id)]
            if url not in hits:
                title = self.documents[url].title
                hits[url] = SearchHit(url=url, title=title, snippet=passage, score=float(score))
        return list(hits.values())

    def _build(self) -> None:
        with self._lock:  # the first searches may arrive together, in threads
            if self._documents is not None:
                return
            documents = {}
            for path in sorted(self.folder.rglob("*")):
                if not (path.is_file() and path.suffix.lower() in self.suffixes):
                    continue
                if not path.resolve().is_relative_to(self.folder):
                    # A link out of the folder would let a search read any file.
                    warnings.warn(
                        f"corpus file {path} skipped: it links outside {self.folder}",
                        ResearchWarning,
                        stacklevel=2,
                    )
                    continue
                document = self._load(path)
                if document is not None and document.text.strip():
                    documents[document.url] = document
            passages = [
                (document.url, passage)
                for document in documents.values()
                for passage in split_passages(document.text, self.passage_chars)
            ]
            self._passages = passages
            self._index = self._make_index([text for _, text in passages]) if passages else None
            self._documents = documents

    def _make_index(self, passages: list[str]) -> Any:
        with extra_needed("research", "LocalCorpusSearch"):
            import bm25s

        tokens = bm25s.tokenize(
            passages, stopwords=self.stopwords, stemmer=self.stemmer, show_progress=False
        )
        index = bm25s.BM25()
        index.index(tokens, show_progress=False)
        return index

    def _load(self, path: Path) -> CorpusDocument | None:
        url = path.as_uri()
        try:
            if path.suffix.lower() in PDF_SUFFIXES:
                title, text = _read_pdf(path)
            else:
                text = path.read_text(encoding="utf-8", errors="replace")
                markdown = path.suffix.lower() in (".md", ".markdown")
                title = _markdown_title(text) if markdown else _first_line_title(text)
        except Exception as error:  # one bad file must not make the corpus unusable
            warnings.warn(
                f"corpus file {path} skipped: {type(error).__name__}: {error}",
                ResearchWarning,
                stacklevel=2,
            )
            return None
        return CorpusDocument(url=url, title=title or path.stem.replace("_", " "), text=text)


def split_passages(text: str, size: int) -> list[str]:
    """`text` cut at blank lines into passages of about `size` characters (a paragraph
    longer than that is a passage of its own)."""
    passages: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if current and len(current) + len(paragraph) > size:
            passages.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        passages.append(current)
    return passages


def _markdown_title(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# "):
            return stripped[2:].strip()
        if stripped:
            return ""  # the title is the first line or nothing
    return ""


def _first_line_title(text: str) -> str:
    # A plain text file's first line is its title when it is short and stands alone.
    head, _, rest = text.strip().partition("\n")
    standalone = not rest or rest.startswith(("\n", "=", "-"))
    return head.strip() if len(head) <= 100 and standalone else ""


def _read_pdf(path: Path) -> tuple[str, str]:
    with extra_needed("research", "reading PDF files"):
        from pypdf import PdfReader
    reader = PdfReader(path)
    text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
    title = str(reader.metadata.title) if reader.metadata and reader.metadata.title else ""
    return title, text
