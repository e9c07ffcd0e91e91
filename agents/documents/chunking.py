"""Token-budgeted chunks of a document, with overlap, cut only between words.

A chunk is at most `chunk_tokens` tokens, as the LLM that reads it counts them
(`LLM.count_reply_tokens` of the text: tiktoken for OpenAI, an estimate for others), and
repeats about `chunk_overlap` tokens from the end of the one before, so a value that sits
on a boundary is whole in at least one chunk. Cuts fall between words, preferably at a
paragraph break, else a line break, else a sentence end, when one lies in the last third
of the chunk: the LLM then sees whole passages, which it quotes more faithfully.

Tokens are counted per word (with its trailing whitespace) to find the cut, then the chunk
is counted whole and trimmed by a word while it is over: a run of spaces tokenizes
differently inside a text than at a word's end, so the per-word sum can be short of the
real count. A single word longer than the budget becomes a chunk of its own rather than
being cut.

Chunks may cross pages: each knows the page it starts and ends on, and its span in the
document's text, so every quote found in it can be placed on its own page.
"""

from __future__ import annotations

import bisect
import functools
import re

from pydantic import BaseModel

from agents.documents.loading import SourceDocument
from agents.llm.protocol import LLM
from agents.llm.token_counts import text_counter

_WORD = re.compile(r"\S+\s*")
_SENTENCE_END = (".", "!", "?", ":", ";")


class Chunk(BaseModel):
    """A piece of one document, sent to the LLM in one call."""

    file: str
    """The document's name (the file as given)."""
    file_index: int
    """The document's position among the run's inputs."""
    index: int
    """The chunk's position in its document, from 0."""
    count: int
    """How many chunks the document has."""
    start: int
    """Offset of the chunk in the document's text."""
    end: int
    """Offset just past the chunk."""
    text: str
    """The chunk's text: the document's `text[start:end]`."""
    pages: int = 1
    """Pages in the whole document."""
    page: int | None = None
    """The page the chunk starts on; None for formats without pages."""
    last_page: int | None = None
    """The page it ends on."""
    page_starts: list[int] = []
    """Offsets where the pages the chunk covers begin, to place quotes on pages."""
    page_numbers: list[int | None] = []
    """The number of each of those pages."""

    def page_at(self, offset: int) -> int | None:
        """The number of the page holding document offset `offset`."""
        if not self.page_starts:
            return None
        return self.page_numbers[max(0, bisect.bisect_right(self.page_starts, offset) - 1)]


def chunk_spans(
    text: str, chunk_tokens: int, chunk_overlap: int, llm: LLM
) -> list[tuple[int, int]]:
    """(start, end) offsets of `text`'s chunks, trailing whitespace left out of each, with
    tokens as `llm` counts them."""
    if chunk_tokens < 1:
        raise ValueError(f"chunk_tokens must be at least 1, got {chunk_tokens}")
    if not 0 <= chunk_overlap < chunk_tokens:
        raise ValueError(
            f"chunk_overlap must be at least 0 and below chunk_tokens ({chunk_tokens}), "
            f"got {chunk_overlap}"
        )
    words = [(match.start(), match.end()) for match in _WORD.finditer(text)]
    if not words:
        return []
    count = text_counter(llm)
    # One call per distinct word: a document repeats most of its words many times.
    count_word = functools.cache(count)
    tokens = [count_word(text[s:e]) for s, e in words]
    spans: list[tuple[int, int]] = []
    first = fresh = 0  # fresh: the first word no chunk holds yet
    while first < len(words):
        last = first + 1  # one past the chunk's last word; a chunk has at least one word
        used = tokens[first]
        while last < len(words) and used + tokens[last] <= chunk_tokens:
            used += tokens[last]
            last += 1
        if last < len(words):
            last = _nicer_cut(text, words, first, last)
        start = words[first][0]
        while (
            last - first > 1
            and count(text[start : _word_end(text, words[last - 1])]) > chunk_tokens
        ):
            last -= 1
        if last <= fresh:
            # The overlap left no room for a new word (the next is long, or the cut fell
            # inside the overlap): this chunk would repeat the last one. Start afresh.
            first = fresh
            continue
        spans.append((start, _word_end(text, words[last - 1])))
        if last >= len(words):
            break
        fresh = last
        back, repeated = last, 0
        while back - 1 > first and repeated + tokens[back - 1] <= chunk_overlap:
            back -= 1
            repeated += tokens[back]
        first = max(back, first + 1)
    return spans


def _word_end(text: str, word: tuple[int, int]) -> int:
    return word[0] + len(text[word[0] : word[1]].rstrip())


def _nicer_cut(text: str, words: list[tuple[int, int]], first: int, last: int) -> int:
    """The word index to end the chunk before: the best break in its last third."""
    floor = first + max(1, (last - first) * 2 // 3)
    line = sentence = None
    for index in range(last, floor, -1):
        start, end = words[index - 1]
        gap = text[start:end]
        trailing = gap[len(gap.rstrip()) :]
        if "\n\n" in trailing or "\n\r\n" in trailing:
            return index
        if line is None and "\n" in trailing:
            line = index
        if sentence is None and gap.rstrip().endswith(_SENTENCE_END):
            sentence = index
    return line or sentence or last


def chunk_document(
    document: SourceDocument, file_index: int, chunk_tokens: int, chunk_overlap: int, llm: LLM
) -> list[Chunk]:
    """`document` cut into `Chunk`s (none when it holds no text), sized by `llm`'s counts."""
    text = document.text
    starts = document.page_starts()
    numbers = [page.number for page in document.pages]
    spans = chunk_spans(text, chunk_tokens, chunk_overlap, llm)

    def page_index(offset: int) -> int:
        return max(0, bisect.bisect_right(starts, offset) - 1)

    chunks: list[Chunk] = []
    for index, (start, end) in enumerate(spans):
        # Only the pages this chunk covers: a long document's chunks stay small.
        first, last = page_index(start), page_index(max(start, end - 1))
        chunks.append(
            Chunk(
                file=document.name,
                file_index=file_index,
                index=index,
                count=len(spans),
                pages=len(document.pages),
                start=start,
                end=end,
                text=text[start:end],
                page=numbers[first],
                last_page=numbers[last],
                page_starts=starts[first : last + 1],
                page_numbers=numbers[first : last + 1],
            )
        )
    return chunks
