"""The citation check: deterministic code, no LLM, between the draft and the report.

The writer cites with `[n]` or, to attach the source's own words, `[n: "quote"]` (several
in one bracket: `[1; 3: "quote"]`). Other ways models write citations are read as markers
too, so none can slip past the check: ranges `[1-3]`, footnotes `[^1]`, `[#1]`,
`[Source: 1]`, `【1†source】`, and a number made a link, `[1](url)` (the link is dropped).
`check_citations` goes through the draft line by line (fenced code is left alone, except a
fence marked `markdown` or `md`, which holds prose), cuts each line into sentences, and every
sentence with a marker is a claim. A claim is verified when each number it cites is a source
that was read, each quote is found in that source's text, and words the sentence itself
puts in quotation marks are found in one of the sources it cites (`quote_in_text`: case,
whitespace, curly quotes, dashes and hyphens, a word hyphenated across a line break,
markdown emphasis and links, and an ellipsis between fragments do not matter; anything
else does, and a quote must be whole words, at least `MIN_QUOTE_WORDS` of them and
`MIN_QUOTE_CHARS` long, since "the" is in every source).

The rewritten markdown cites only read sources: a number that names no read source is
taken out of its marker, and quotes are taken out of the text (they are in `Claim.quotes`).
A claim that failed is marked `[unverified]` after its sentence, or removed with
`policy="remove"`, and returned in `unverified` with its problems.

Sentences without a marker are not claims and pass unchanged: the writer is told to cite
every factual sentence, but code cannot tell a fact from a transition.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from agents.research.report import Claim

UnverifiedPolicy = Literal["mark", "remove"]
"""What happens to a claim that fails: marked `[unverified]`, or removed from the text."""

UNVERIFIED_MARK = "[unverified]"
"""Put after a failed claim's sentence with `policy="mark"`."""

MIN_QUOTE_WORDS = 2
"""Words one stretch of a quote (between ellipses) needs at least: one word is found in
almost any source."""
MIN_QUOTE_CHARS = 8
"""Characters (folded) that stretch needs at least, for the same reason."""

# A bracket, quotes inside it read whole (a quote may hold "]"), and the link target after
# it if any; parse_marker decides whether it is a citation: [1], [1, 2], [2: "q"; 3], [1](u).
_BRACKET = re.compile(r'\[((?>"[^"]*"|“[^”]*”|[^\[\]])*)\](\([^()\s]*\))?')
_FULLWIDTH_BRACKETS = str.maketrans("【】", "[]")
# How a number may be introduced (Source 1, Source: 1, ^1, #1) and what may follow it
# (a range's end, an OpenAI-style ":0†source" tag).
_NUMBER = (
    r"(?:[Ss]ources?:?\s*|\^|#)?(\d{1,3})(?:\s*[-\u2013\u2014]\s*(\d{1,3}))?"
    r"(?::\d+)?(?:†[^,;:]*)?"
)
_ITEM = re.compile(rf'\s*{_NUMBER}\s*(?::\s*(?:"([^"]*)"|“([^”]*)”))?\s*(?:[,;]|$)')
# One number and a quote the strict form cannot read (escaped or unbalanced quote marks).
_LOOSE_ITEM = re.compile(rf"\s*{_NUMBER}\s*:\s*(.*?)\s*", re.DOTALL)
_RANGE_LIMIT = 50
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
# Words a claim's sentence puts in quotation marks itself, outside its markers.
_INLINE_QUOTE = re.compile(r'"([^"\n]+)"|“([^”\n]+)”')
# A sentence ends at . ! or ? (closing quotes and brackets allowed), then its markers,
# then whitespace or the end: "grew 3.5% [1]." and "grew. [1] Then" both end after [1].
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)]*(?:\s*\x00\d+\x00)*(?=\s|$)")
_LINE_PREFIX = re.compile(r"^(\s*(?:[-*+]\s+|\d+[.)]\s+|>\s*)*)")
_FENCE = re.compile(r"^\s*(?:```|~~~)\s*(\S*)")
_PROSE_FENCES = frozenset({"markdown", "md"})
_OPEN_MARKER = re.compile(r"\[[\d\s,;^#\-\u2013\u2014]*$")
_CLOSE_MARKER = re.compile(r"[\d\s,;^#\-\u2013\u2014]*\]")
_CHARACTER_FOLDS = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b", "'"),  # curly single quotes
        **dict.fromkeys("\u201c\u201d\u201e\u201f", '"'),  # curly double quotes
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2212", "-"),  # hyphens, en dash, minus
        "\u2014": " ",  # an em dash separates words, spaced or not: "hot\u2014as"
        "\u00a0": " ",
        "\u00ad": None,  # a soft hyphen is invisible in the source
    }
)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# A hyphen inside a word or a number range, with the line break after it when a word was
# split across lines (PDF text): "lithium-ion", "capac-\nity", "20-80". Other hyphens
# separate words and count as spaces.
_JOINING_HYPHEN = re.compile(r"(?<=\w)-(?:[ \t]*\n\s*)?(?=\w)")
_EMPHASIS = re.compile(r"[*_`]")
_SPACE = re.compile(r"\s+")
_ELLIPSIS = re.compile(r"\.\.\.|…|\[\.\.\.\]")
_EDGE_PUNCTUATION = " \t\n.,;:!?\"'()[]"


@dataclass(frozen=True, slots=True)
class Citation:
    """One number in a marker, with its quote."""

    source_id: int
    """The source cited."""
    quote: str | None
    """The words attached, or None."""


@dataclass(slots=True)
class CitationCheck:
    """What `check_citations` found and the markdown it left."""

    markdown: str
    """The draft with quotes taken out, unread sources uncited, failed claims handled."""
    claims: list[Claim] = field(default_factory=list)
    """Claims that passed."""
    unverified: list[Claim] = field(default_factory=list)
    """Claims that failed, with their problems."""
    removed_citations: int = 0
    """Numbers taken out because no read source has them."""


def normalize_for_match(text: str) -> str:
    """`text` folded so that only wording counts: NFKC, curly quotes made plain, hyphens
    inside a word dropped (with the line break of a word hyphenated across lines, as PDF
    text has them) and other dashes made spaces, markdown links reduced to their text,
    markdown emphasis dropped, whitespace collapsed, case folded."""
    text = unicodedata.normalize("NFKC", text).translate(_CHARACTER_FOLDS)
    text = _JOINING_HYPHEN.sub("", _EMPHASIS.sub("", _LINK.sub(r"\1", text)))
    text = text.replace("-", " ")
    return _SPACE.sub(" ", text).strip().casefold()


def quote_in_text(quote: str, text: str) -> bool:
    """Whether `quote` appears in `text` (after `normalize_for_match`) as whole words. A
    quote with an ellipsis matches when its fragments appear in that order. A quote none
    of whose fragments has `MIN_QUOTE_WORDS` words and `MIN_QUOTE_CHARS` characters never
    does: it would be found in any source, so it proves nothing."""
    fragments = _fragments(quote)
    if not _long_enough(fragments):
        return False
    haystack = normalize_for_match(text)
    position = 0
    for fragment in fragments:
        found = _find_words(haystack, fragment, position)
        if found < 0:
            return False
        position = found + len(fragment)
    return True


def _fragments(quote: str) -> list[str]:
    fragments = [
        normalize_for_match(fragment).strip(_EDGE_PUNCTUATION)
        for fragment in _ELLIPSIS.split(unicodedata.normalize("NFKC", quote))
    ]
    return [fragment for fragment in fragments if fragment]


def _long_enough(fragments: list[str]) -> bool:
    # One fragment must be long enough on its own: "the ... and ... of" is in any source.
    return any(
        len(fragment) >= MIN_QUOTE_CHARS and len(fragment.split()) >= MIN_QUOTE_WORDS
        for fragment in fragments
    )


def _find_words(haystack: str, fragment: str, start: int) -> int:
    # "ells lose" is in "cells lose" but is not what the source says.
    found = haystack.find(fragment, start)
    while found >= 0:
        end = found + len(fragment)
        cut_before = found > 0 and haystack[found - 1].isalnum() and fragment[0].isalnum()
        cut_after = end < len(haystack) and haystack[end].isalnum() and fragment[-1].isalnum()
        if not (cut_before or cut_after):
            return found
        found = haystack.find(fragment, found + 1)
    return -1


def parse_marker(inside: str) -> list[Citation] | None:
    """The citations in a marker's inside (`1, 2: "q"`, `Source 3`), or None when it is
    not a marker. A single number with a quote in odd quotation marks (`2: "say \\"no\\""`)
    is still read as that number and that quote."""
    citations: list[Citation] = []
    position = 0
    for match in _ITEM.finditer(inside):
        if match.start() != position:
            break
        quote = match.group(3) if match.group(3) is not None else match.group(4)
        citations.extend(
            Citation(number, quote.strip() or None if quote else None)
            for number in _numbers(match.group(1), match.group(2))
        )
        position = match.end()
        if position == len(inside):
            break
    if position == len(inside) and citations:
        return citations
    loose = _LOOSE_ITEM.fullmatch(inside)
    if loose is None:
        return None
    # Still a citation of that number: left unparsed, it would stay in the text unchecked.
    quote = loose.group(3).replace('\\"', '"').strip().strip('"\u201c\u201d').strip()
    return [Citation(number, quote or None) for number in _numbers(loose.group(1), loose.group(2))]


def _numbers(first: str, last: str | None) -> list[int]:
    # [1-3] cites 1, 2 and 3; an absurd range is read as its two ends, each still checked.
    start, end = int(first), int(last) if last is not None else int(first)
    if start <= end < start + _RANGE_LIMIT:
        return list(range(start, end + 1))
    return [start, end]


def check_citations(
    markdown: str, sources: Mapping[int, str], policy: UnverifiedPolicy = "mark"
) -> CitationCheck:
    """Check every claim of `markdown` against `sources` (id -> the text that was read)."""
    result = CitationCheck(markdown="")
    lines = []
    in_fence = in_code = False
    raw = markdown.split("\n")
    index = 0
    while index < len(raw):
        line = raw[index]
        index += 1
        fence = _FENCE.match(line)
        if fence:
            # A fence marked markdown holds prose the reader sees as the report: checked.
            in_code = not in_fence and fence.group(1).casefold() not in _PROSE_FENCES
            in_fence = not in_fence
            lines.append(line)
        elif in_code:
            lines.append(line)
        else:
            # A marker broken over two lines ("[1,\n3]") renders as one: check it as one.
            while (
                index < len(raw) and _OPEN_MARKER.search(line) and _CLOSE_MARKER.match(raw[index])
            ):
                line = f"{line} {raw[index].lstrip()}"
                index += 1
            checked = _check_line(line, sources, policy, result)
            if checked is not None:
                lines.append(checked)
    result.markdown = "\n".join(lines)
    return result


def _check_line(
    line: str, sources: Mapping[int, str], policy: UnverifiedPolicy, result: CitationCheck
) -> str | None:
    markers: list[list[Citation]] = []

    def hide(match: re.Match[str]) -> str:
        citations = parse_marker(match.group(1))
        if citations is None:
            return match.group(0)
        markers.append(citations)
        return f"\x00{len(markers) - 1}\x00"

    prefix = _LINE_PREFIX.match(line)
    head = prefix.group(1) if prefix else ""
    body = _BRACKET.sub(hide, line[len(head) :].translate(_FULLWIDTH_BRACKETS))
    if not markers:
        return line
    pieces = []
    start = 0
    for end in _SENTENCE_END.finditer(body):
        pieces.append(body[start : end.end()])
        start = end.end()
    pieces.append(body[start:])
    kept = [_check_sentence(piece, markers, sources, policy, result) for piece in pieces]
    text = "".join(kept)
    if not text.strip() and body.strip():
        return None  # every sentence of the line was removed
    return head + text


def _check_sentence(
    sentence: str,
    markers: list[list[Citation]],
    sources: Mapping[int, str],
    policy: UnverifiedPolicy,
    result: CitationCheck,
) -> str:
    used = [markers[int(number)] for number in _PLACEHOLDER.findall(sentence)]
    if not used:
        return sentence
    citations = [citation for marker in used for citation in marker]
    problems = []
    for citation in citations:
        text = sources.get(citation.source_id)
        if text is None:
            problems.append(f"cites [{citation.source_id}], a source that was not read")
            result.removed_citations += 1
        elif citation.quote is not None and not quote_in_text(citation.quote, text):
            problems.append(
                f'the quote for [{citation.source_id}] is not in that source: "{citation.quote}"'
            )
    # A quotation in the sentence presents the sources' words as much as a marker's quote
    # does; one too short to check ("so-called "fast" charging") is taken as emphasis.
    cited_texts = [sources[c.source_id] for c in citations if c.source_id in sources]
    inline = [a or b for a, b in _INLINE_QUOTE.findall(sentence)]
    inline = [quote for quote in inline if _long_enough(_fragments(quote))]
    for quote in inline:
        if not any(quote_in_text(quote, text) for text in cited_texts):
            problems.append(f'the quoted words are in none of the sources cited: "{quote}"')
    claim = Claim(
        text=_SPACE.sub(" ", _PLACEHOLDER.sub("", sentence)).strip().replace(" .", "."),
        source_ids=list(dict.fromkeys(citation.source_id for citation in citations)),
        quotes=[c.quote for c in citations if c.quote is not None] + inline,
        problems=problems,
    )
    (result.unverified if problems else result.claims).append(claim)
    if problems and policy == "remove":
        return ""

    def render(match: re.Match[str]) -> str:
        ids = [c.source_id for c in markers[int(match.group(1))] if c.source_id in sources]
        return f"[{', '.join(str(i) for i in dict.fromkeys(ids))}]" if ids else ""

    rendered = re.sub(r" ?\x00(\d+)\x00", lambda m: _spaced(render(m)), sentence)
    if problems:
        stripped = rendered.rstrip()
        rendered = f"{stripped} {UNVERIFIED_MARK}{rendered[len(stripped) :]}"
    return rendered


def _spaced(marker: str) -> str:
    return f" {marker}" if marker else ""
