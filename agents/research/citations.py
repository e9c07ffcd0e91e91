"""The citation check: deterministic code, no LLM, between the draft and the report.

The writer cites with `[n]` or, to attach the source's own words, `[n: "quote"]` (several
in one bracket: `[1; 3: "quote"]`). `check_citations` goes through the draft line by line
(fenced code is left alone), cuts each line into sentences, and every sentence with a
marker is a claim. A claim is verified when each number it cites is a source that was read
and each quote is found in that source's text (`quote_in_text`: case, whitespace, curly
quotes and dashes, markdown emphasis and an ellipsis between fragments do not matter;
anything else does).

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

# A bracket, quotes inside it read whole (a quote may hold "]"); parse_marker decides whether
# it is a citation: [1], [1, 2], [2: "q"; 3].
_BRACKET = re.compile(r'\[((?>"[^"]*"|“[^”]*”|[^\[\]])*)\](?!\()')
_ITEM = re.compile(
    r'\s*(?:[Ss]ources?\s+)?(\d{1,3})\s*(?::\s*(?:"([^"]*)"|“([^”]*)”))?\s*(?:[,;]|$)'
)
# One number and a quote the strict form cannot read (escaped or unbalanced quote marks).
_LOOSE_ITEM = re.compile(r"\s*(?:[Ss]ources?\s+)?(\d{1,3})\s*:\s*(.*?)\s*", re.DOTALL)
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
# A sentence ends at . ! or ? (closing quotes and brackets allowed), then its markers,
# then whitespace or the end: "grew 3.5% [1]." and "grew. [1] Then" both end after [1].
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)]*(?:\s*\x00\d+\x00)*(?=\s|$)")
_LINE_PREFIX = re.compile(r"^(\s*(?:[-*+]\s+|\d+[.)]\s+|>\s*)*)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_CHARACTER_FOLDS = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b", "'"),  # curly single quotes
        **dict.fromkeys("\u201c\u201d\u201e\u201f", '"'),  # curly double quotes
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"),  # dashes, minus
        "\u00a0": " ",
        "\u00ad": None,  # a soft hyphen is invisible in the source
    }
)
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
    """`text` folded so that only wording counts: NFKC, curly quotes and dashes made
    plain, markdown emphasis dropped, whitespace collapsed, case folded."""
    text = unicodedata.normalize("NFKC", text).translate(_CHARACTER_FOLDS)
    text = _EMPHASIS.sub("", text)
    return _SPACE.sub(" ", text).strip().casefold()


def quote_in_text(quote: str, text: str) -> bool:
    """Whether `quote` appears in `text` (after `normalize_for_match`). A quote with an
    ellipsis matches when its fragments appear in that order. An empty quote never does."""
    haystack = normalize_for_match(text)
    position = 0
    fragments = [
        normalize_for_match(fragment).strip(_EDGE_PUNCTUATION)
        for fragment in _ELLIPSIS.split(unicodedata.normalize("NFKC", quote))
    ]
    fragments = [fragment for fragment in fragments if fragment]
    if not fragments:
        return False
    for fragment in fragments:
        found = haystack.find(fragment, position)
        if found < 0:
            return False
        position = found + len(fragment)
    return True


def parse_marker(inside: str) -> list[Citation] | None:
    """The citations in a marker's inside (`1, 2: "q"`, `Source 3`), or None when it is
    not a marker. A single number with a quote in odd quotation marks (`2: "say \\"no\\""`)
    is still read as that number and that quote."""
    citations = []
    position = 0
    for match in _ITEM.finditer(inside):
        if match.start() != position:
            break
        quote = match.group(2) if match.group(2) is not None else match.group(3)
        citations.append(Citation(int(match.group(1)), quote.strip() or None if quote else None))
        position = match.end()
        if position == len(inside):
            break
    if position == len(inside) and citations:
        return citations
    loose = _LOOSE_ITEM.fullmatch(inside)
    if loose is None:
        return None
    # Still a citation of that number: left unparsed, it would stay in the text unchecked.
    quote = loose.group(2).replace('\\"', '"').strip().strip('"\u201c\u201d').strip()
    return [Citation(int(loose.group(1)), quote or None)]


def check_citations(
    markdown: str, sources: Mapping[int, str], policy: UnverifiedPolicy = "mark"
) -> CitationCheck:
    """Check every claim of `markdown` against `sources` (id -> the text that was read)."""
    result = CitationCheck(markdown="")
    lines = []
    in_code = False
    for line in markdown.split("\n"):
        if _FENCE.match(line):
            in_code = not in_code
            lines.append(line)
        elif in_code:
            lines.append(line)
        else:
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
    body = _BRACKET.sub(hide, line[len(head) :])
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
    claim = Claim(
        text=_SPACE.sub(" ", _PLACEHOLDER.sub("", sentence)).strip().replace(" .", "."),
        source_ids=list(dict.fromkeys(citation.source_id for citation in citations)),
        quotes=[citation.quote for citation in citations if citation.quote is not None],
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
