"""LocalCorpusSearch: BM25 ranking over text, markdown and PDF files the test writes,
snippets from the best passage, titles, and reading confined to the corpus's own files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from research_wire import BATTERY_CORPUS, url_of, write_corpus

from agents.research import CorpusError, LocalCorpusSearch, ResearchWarning
from agents.research.corpus import light_stem, split_passages


def tiny_pdf(text: str, title: str) -> bytes:
    """A one-page PDF showing `text` in Helvetica, with `title` in its metadata."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({title}) >>".encode(),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


async def test_bm25_ranks_the_document_that_matches_best_first(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path, BATTERY_CORPUS)
    search = LocalCorpusSearch(corpus)

    hits = await search.search("fast charging temperature", 5)

    assert [hit.url for hit in hits] == [url_of(corpus, "charging.md")]
    assert hits[0].title == "Charging habits"
    assert "Fast charging raises" in hits[0].snippet
    assert hits[0].score is not None
    assert hits[0].score > 0


async def test_plural_and_verb_forms_match_and_k_limits_hits(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path, BATTERY_CORPUS)
    search = LocalCorpusSearch(corpus)

    # "cells" in the query, "cell" and "cells" in the documents
    hits = await search.search("cells", 5)
    assert {hit.url for hit in hits} == {url_of(corpus, "heat.md"), url_of(corpus, "charging.md")}
    assert len(await search.search("cells", 1)) == 1
    assert await search.search("penguins krill", 5) == []
    assert await search.search("the of and", 5) == []  # only stopwords


async def test_pdf_files_are_read_with_their_title(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(
        tiny_pdf("Sodium cells avoid lithium entirely.", "Sodium outlook")
    )
    search = LocalCorpusSearch(tmp_path)

    (hit,) = await search.search("sodium lithium", 5)

    assert hit.url == url_of(tmp_path, "report.pdf")
    assert hit.title == "Sodium outlook"
    title, text = await search.read(hit.url)
    assert title == "Sodium outlook"
    assert "Sodium cells avoid lithium entirely." in text


async def test_an_unreadable_file_is_skipped_with_a_warning(tmp_path: Path) -> None:
    write_corpus(tmp_path, BATTERY_CORPUS)
    (tmp_path / "broken.pdf").write_bytes(b"not a pdf at all")
    search = LocalCorpusSearch(tmp_path)

    with pytest.warns(ResearchWarning, match="broken.pdf skipped"):
        hits = await search.search("recycling cobalt", 5)

    assert [hit.url for hit in hits] == [url_of(tmp_path, "recycling.txt")]
    assert hits[0].title == "Recycling"  # a text file's short first line


async def test_read_gives_only_the_corpus_own_documents(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    search = LocalCorpusSearch(corpus)

    title, text = await search.read(url_of(corpus, "heat.md"))
    assert title == "Heat and battery ageing"
    assert "35 percent" in text
    assert not search.owns(secret.as_uri())
    with pytest.raises(CorpusError, match="is not a document of the corpus"):
        await search.read(secret.as_uri())


async def test_a_link_to_a_file_outside_the_folder_is_not_indexed(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", BATTERY_CORPUS)
    secret = tmp_path / "secret.txt"
    secret.write_text("Secrets\n\nThe battery vault password is hunter2.\n")
    link = corpus.resolve() / "notes.txt"
    link.symlink_to(secret)
    search = LocalCorpusSearch(corpus)

    with pytest.warns(ResearchWarning, match="notes.txt skipped: it links outside"):
        hits = await search.search("battery vault password", 5)

    assert not any("hunter2" in hit.snippet for hit in hits)
    assert not search.owns(link.as_uri())
    with pytest.raises(CorpusError, match="is not a document of the corpus"):
        await search.read(link.as_uri())


async def test_titles_fall_back_to_the_file_name(tmp_path: Path) -> None:
    write_corpus(
        tmp_path, {"cell_notes.md": "Cells wear.\n", "log.txt": "Cells wear out\nslowly.\n"}
    )
    search = LocalCorpusSearch(tmp_path)

    hits = await search.search("cells wear", 5)

    assert sorted(hit.title for hit in hits) == ["cell notes", "log"]


def test_a_missing_folder_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        LocalCorpusSearch(tmp_path / "nowhere")


def test_passages_split_at_paragraphs_and_stems_fold_endings() -> None:
    text = "\n\n".join(["a" * 50, "b" * 50, "c" * 50])
    assert split_passages(text, 110) == ["a" * 50 + "\n\n" + "b" * 50, "c" * 50]
    assert light_stem(["batteries", "charging", "measured", "cells", "glass"]) == [
        "battery",
        "charg",
        "measur",
        "cell",
        "glass",
    ]


ABANDONS_A_SEARCH = """
import asyncio, sys, threading
from agents.research import LocalCorpusSearch

never = threading.Event()

async def main():
    loop = asyncio.get_running_loop()
    indexing = loop.create_future()

    def stuck_stemmer(words):  # runs while the first search builds the index
        loop.call_soon_threadsafe(indexing.set_result, None)
        never.wait()

    corpus = LocalCorpusSearch(sys.argv[1], stemmer=stuck_stemmer)
    search = asyncio.create_task(corpus.search("battery", 2))
    await indexing
    search.cancel()

asyncio.run(main())
print("asyncio.run returned; indexing still blocked:", not never.is_set(), flush=True)
"""


def test_a_search_given_up_while_it_indexes_holds_up_neither_the_loop_nor_the_process(
    tmp_path: Path,
) -> None:
    # Before, the search ran on the loop's default executor, whose threads asyncio.run()
    # waits for: a search given up in the middle (a cancelled run) kept the process alive.
    write_corpus(tmp_path, BATTERY_CORPUS)
    try:
        finished = subprocess.run(
            [sys.executable, "-c", ABANDONS_A_SEARCH, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"the process did not end while the abandoned search blocked: {expired}")
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "asyncio.run returned; indexing still blocked: True\n"
