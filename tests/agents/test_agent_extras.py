"""Agent parts whose dependencies come with an extra: used without it, each raises
`MissingExtraError` naming the extra to install (or, for one file of many, says so in the
reason it was skipped)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agentflow.errors import MissingExtraError
from agents.documents import UnreadableFileError, loading
from agents.llm import LlamaIndexLLM
from agents.research import BraveSearch, LocalCorpusSearch, ResearchWarning, TavilySearch


@pytest.fixture
def fresh_file_reader() -> Iterator[None]:
    """The documents loader keeps the LlamaIndex reader it imported; forget it around the
    test, so the test's imports are the ones that count."""
    loading._simple_directory_reader.cache_clear()
    yield
    loading._simple_directory_reader.cache_clear()


def test_the_llama_index_adapter_names_the_llama_index_extra(
    uninstalled: Callable[..., None],
) -> None:
    uninstalled("llama_index")

    with pytest.raises(MissingExtraError) as caught:
        LlamaIndexLLM(object())

    assert (caught.value.extra, caught.value.feature) == ("llama-index", "LlamaIndexLLM")


@pytest.mark.parametrize(
    "backend", [TavilySearch(api_key="key"), BraveSearch(api_key="key")], ids=type
)
async def test_web_search_backends_name_the_web_extra(
    uninstalled: Callable[..., None], backend: TavilySearch | BraveSearch
) -> None:
    uninstalled("httpx")

    with pytest.raises(MissingExtraError) as caught:
        await backend.search("otters", 3)

    assert (caught.value.extra, caught.value.feature) == ("web", type(backend).__name__)


async def test_local_corpus_search_names_the_research_extra(
    uninstalled: Callable[..., None], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("Otters eat fish.\n")
    uninstalled("bm25s")

    with pytest.raises(MissingExtraError) as caught:
        await LocalCorpusSearch(tmp_path).search("otters", 3)

    assert (caught.value.extra, caught.value.feature) == ("research", "LocalCorpusSearch")


async def test_a_corpus_pdf_without_pypdf_is_skipped_naming_the_research_extra(
    uninstalled: Callable[..., None], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("Otters eat fish.\n")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n")
    uninstalled("pypdf")

    with pytest.warns(ResearchWarning) as warned:
        hits = await LocalCorpusSearch(tmp_path).search("otters fish", 3)

    assert [hit.title for hit in hits] == ["Otters eat fish."]
    (warning,) = warned
    assert "report.pdf skipped: MissingExtraError: reading PDF files needs the 'research'" in str(
        warning.message
    )


@pytest.mark.usefixtures("fresh_file_reader")
def test_reading_files_without_llama_index_names_the_documents_extra(
    uninstalled: Callable[..., None], tmp_path: Path
) -> None:
    (tmp_path / "invoice.txt").write_text("Total: 10.00\n")
    uninstalled("llama_index")

    with pytest.raises(MissingExtraError) as caught:
        loading.read_file(tmp_path / "invoice.txt")

    assert (caught.value.extra, caught.value.feature) == ("documents", "reading .txt files")


@pytest.mark.usefixtures("fresh_file_reader")
def test_a_pdf_without_the_file_readers_is_unreadable_naming_the_documents_extra(
    uninstalled: Callable[..., None], tmp_path: Path
) -> None:
    (tmp_path / "invoice.pdf").write_bytes(b"%PDF-1.4\n")
    uninstalled("llama_index.readers.file")

    with pytest.raises(UnreadableFileError) as caught:
        loading.read_file(tmp_path / "invoice.pdf")

    assert "reading .pdf files needs the 'documents' extra" in str(caught.value)
    assert "pip install -e '.[documents]'" in str(caught.value)
