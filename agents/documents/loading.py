"""Files and given texts as `SourceDocument`s: the text of each page, ready to chunk.

Files go through llama-index-core's `SimpleDirectoryReader.load_file`, which hands PDF and
docx files to `llama-index-readers-file` (the `documents` extra, with `docx2txt` for
docx): a PDF gives one Document per page, and the page numbers are kept. Plain text
and Markdown are read as they are (the Markdown reader would rewrite headings, and quotes
must match the text the LLM saw); HTML is reduced to its visible text. llama_index is
imported here only, on first use.

Every way a file can fail (missing, unsupported, corrupt, no text in it) is raised as
`UnreadableFileError` with a reason a person can act on; the workflow turns it into a
`FileFailed` event and goes on with the other files.
"""

from __future__ import annotations

import contextlib
import html.parser
import logging
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agentflow.extras import MissingExtraError, extra_needed
from agents.documents.errors import UnreadableFileError, UnsupportedFileTypeError

PAGE_SEPARATOR = "\n\n"
"""Between pages in a document's text: spans are offsets into the pages joined by it."""

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")
"""The file types `read_file` takes."""

_FILE_READER_SUFFIXES = (".pdf", ".docx")
"""The file types read by llama-index-readers-file; without it, SimpleDirectoryReader would
read them as plain text (their raw bytes), so they are refused instead."""


class Page(BaseModel):
    """One page of text (a whole file, for formats without pages)."""

    number: int | None = None
    """The page's position from 1; None for formats without pages."""
    label: str | None = None
    """The page label the reader gave (a PDF's may be "iv" or "A-3")."""
    text: str
    """The page's text."""


class SourceDocument(BaseModel):
    """A file or a given text, as pages."""

    name: str
    """The file as given, or the document's name: quotes and reports refer to it."""
    pages: list[Page]
    """Its pages, in order."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """What the reader or the caller said about it (file name, type, size, ...)."""

    @property
    def text(self) -> str:
        """The pages' text joined by `PAGE_SEPARATOR`: the text spans point into."""
        return PAGE_SEPARATOR.join(page.text for page in self.pages)

    def page_starts(self) -> list[int]:
        """Where each page begins in `text`."""
        starts: list[int] = []
        offset = 0
        for page in self.pages:
            starts.append(offset)
            offset += len(page.text) + len(PAGE_SEPARATOR)
        return starts


class TextSource(BaseModel):
    """A text given to `run(documents=[...])` rather than read from a file."""

    text: str
    """The text itself."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Anything known about it; `file_name`/`file_path` name it, `page_label` numbers it."""
    name: str | None = None
    """Its name in quotes and reports; defaults to the metadata's file name."""


def as_text_source(item: Any) -> TextSource:
    """A `TextSource` from a str, a dict with "text" (and "metadata", "name"), a
    `TextSource`, or anything with `.text` and `.metadata` (a LlamaIndex `Document`)."""
    if isinstance(item, TextSource):
        return item
    if isinstance(item, str):
        return TextSource(text=item)
    if isinstance(item, Mapping):
        return TextSource.model_validate(dict(item))
    text = getattr(item, "text", None)
    if isinstance(text, str):
        metadata = getattr(item, "metadata", None) or {}
        return TextSource(text=text, metadata=dict(metadata))
    raise TypeError(
        f"documents= takes str, dict, TextSource or LlamaIndex Document items, "
        f"got {type(item).__name__}"
    )


def documents_from_texts(sources: Iterable[TextSource]) -> list[SourceDocument]:
    """Group consecutive texts of one name (the pages or sections a reader gave for one
    file) into one document each, so that spans are offsets into that file's one text;
    unnamed texts are "document 1", "document 2", ..."""
    documents: list[SourceDocument] = []
    unnamed = 0
    for source in sources:
        name = source.name or _name_from(source.metadata)
        if name is None:
            unnamed += 1
            name = f"document {unnamed}"
        label = source.metadata.get("page_label")
        if documents and documents[-1].name == name:
            pages = documents[-1].pages
            pages.append(
                Page(
                    number=None if label is None else len(pages) + 1,
                    label=None if label is None else str(label),
                    text=source.text,
                )
            )
            continue
        page = Page(
            number=1 if label is not None else None,
            label=None if label is None else str(label),
            text=source.text,
        )
        documents.append(SourceDocument(name=name, pages=[page], metadata=source.metadata))
    return documents


def read_file(path: str | Path) -> SourceDocument:
    """Read one file as pages; raises `UnreadableFileError` saying why it cannot be read."""
    name = str(path)
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileTypeError(
            name,
            f"unsupported file type {suffix or '(no extension)'!r}; "
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}",
        )
    if not file.is_file():
        raise UnreadableFileError(name, "no such file")
    with extra_needed("documents", f"reading {suffix} files"):
        reader = _simple_directory_reader()
    try:
        # A missing reader (or the pypdf a reader needs) concerns this file type only.
        with extra_needed("documents", f"reading {suffix} files"):
            if suffix in _FILE_READER_SUFFIXES:
                import llama_index.readers.file  # type: ignore[import-untyped]  # noqa: F401
            loaded = reader.load_file(
                file,
                file_metadata=_file_metadata,
                file_extractor=_readers(),
                raise_on_error=True,
            )
    except MissingExtraError as error:
        raise UnreadableFileError(name, str(error)) from error
    except Exception as error:  # any reader's failure, wrapped by load_file
        cause = _root_cause(error)
        raise UnreadableFileError(name, f"{type(cause).__name__}: {cause}") from error
    pages = [
        Page(
            number=index + 1 if len(loaded) > 1 or _paged(suffix) else None,
            label=_label(doc.metadata),
            text=doc.text,
        )
        for index, doc in enumerate(loaded)
    ]
    if not any(page.text.strip() for page in pages):
        hint = " (a scanned PDF needs OCR first)" if suffix == ".pdf" else ""
        raise UnreadableFileError(name, f"no text could be read{hint}")
    metadata = dict(loaded[0].metadata) if loaded else {}
    metadata.pop("page_label", None)
    return SourceDocument(name=name, pages=pages, metadata=metadata)


@lru_cache(maxsize=1)
def _simple_directory_reader() -> Any:
    """llama-index-core's `SimpleDirectoryReader`, with llama-index-readers-file loaded.

    One of readers-file's modules calls `logging.basicConfig(level=INFO)` when imported,
    which would print every HTTP request of the run; the root logger is put back as the
    application had it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from llama_index.core import SimpleDirectoryReader

        # Without readers-file, read_file refuses PDF and docx files, naming the extra.
        with contextlib.suppress(ImportError):
            import llama_index.readers.file  # noqa: F401
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return SimpleDirectoryReader


def _root_cause(error: BaseException) -> BaseException:
    """The reader's own exception: load_file wraps it, and some readers retry with
    tenacity, whose RetryError holds the last attempt's."""
    cause: BaseException = error.__cause__ or error
    attempt = getattr(cause, "last_attempt", None)
    inner = attempt.exception() if attempt is not None else None
    return inner if isinstance(inner, BaseException) else cause


def _paged(suffix: str) -> bool:
    return suffix == ".pdf"


def _label(metadata: Mapping[str, Any]) -> str | None:
    label = metadata.get("page_label")
    return None if label is None else str(label)


def _name_from(metadata: Mapping[str, Any]) -> str | None:
    for key in ("file_path", "file_name", "source", "name"):
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _file_metadata(path: str) -> dict[str, Any]:
    file = Path(path)
    return {"file_name": file.name, "file_path": path, "file_type": file.suffix.lower()[1:]}


@lru_cache(maxsize=1)
def _reader_classes() -> tuple[type[Any], type[Any]]:
    # Defined on first use: their base class is llama_index's, which is imported only here.
    from llama_index.core.readers.base import BaseReader
    from llama_index.core.schema import Document

    class PlainTextReader(BaseReader):
        """The file's text exactly as written (utf-8, undecodable bytes replaced)."""

        def load_data(
            self, file: Path, extra_info: dict[str, Any] | None = None, **_: Any
        ) -> list[Document]:
            text = Path(file).read_text(encoding="utf-8", errors="replace")
            return [Document(text=text, metadata=extra_info or {})]

    class HTMLTextReader(BaseReader):
        """The visible text of an HTML page: scripts, styles and the head left out, one
        line per block element."""

        def load_data(
            self, file: Path, extra_info: dict[str, Any] | None = None, **_: Any
        ) -> list[Document]:
            markup = Path(file).read_text(encoding="utf-8", errors="replace")
            return [Document(text=html_to_text(markup), metadata=extra_info or {})]

    return PlainTextReader, HTMLTextReader


def _readers() -> dict[str, Any]:
    plain, markup = _reader_classes()
    return {
        ".txt": plain(),
        ".md": plain(),
        ".markdown": plain(),
        ".html": markup(),
        ".htm": markup(),
    }


_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl"),
        *("dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4"),
        *("h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section"),
        *("table", "tbody", "tfoot", "thead", "title", "tr", "ul"),
    }
)
_HIDDEN_TAGS = frozenset(("script", "style", "head", "noscript", "template", "svg"))


class _VisibleText(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The visible text of `markup`: one line per block, blank lines collapsed."""
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    lines = (
        re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n")
    )
    return "\n".join(line for line in lines if line)
