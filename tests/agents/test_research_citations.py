"""The citation check in code: markers parsed, claims split by sentence, quotes matched
after normalisation only, markdown structure and code blocks kept."""

from __future__ import annotations

import pytest

from agents.research.citations import check_citations, parse_marker, quote_in_text

SOURCES = {
    1: "Lithium-ion cells lose capacity faster when they are kept hot.\nA cell at 40 °C "
    "loses 35% in a year.",
    2: "Keeping a cell between 20 and 80 percent charge slows wear.",
}


@pytest.mark.parametrize(
    ("quote", "found"),
    [
        ("lose capacity faster when they are kept hot", True),
        ("LOSE   capacity\nfaster", True),  # case and whitespace
        ("“lose capacity faster”", True),  # curly quotes around it
        ("cells lose ... when they are kept hot.", True),  # ellipsis, fragments in order
        ("kept hot … cells lose", False),  # fragments out of order
        ("lose capacity quickly", False),  # paraphrase
        ("a cell at 40 °c loses 35%", True),
        ("", False),
        ("...", False),
    ],
)
def test_quotes_match_after_normalisation_only(quote: str, found: bool) -> None:
    assert quote_in_text(quote, SOURCES[1]) is found


def test_markers_are_parsed_with_their_quotes() -> None:
    parsed = parse_marker('1; 3: "a, b; c" , 4')
    assert parsed is not None
    assert [(c.source_id, c.quote) for c in parsed] == [(1, None), (3, "a, b; c"), (4, None)]
    assert parse_marker("sic") is None
    assert parse_marker("1 and 2") is None
    assert parse_marker("2023: a year") is None
    source = parse_marker("Source 2")
    assert source is not None
    assert [(c.source_id, c.quote) for c in source] == [(2, None)]


def test_a_quote_with_escaped_quotation_marks_is_still_checked() -> None:
    sources = {1: 'The manager said "no" to the plan.'}
    draft = 'The plan was refused [1: "said \\"no\\" to the plan"]. Also [4: "x \\"y"].'

    checked = check_citations(draft, sources)

    assert [c.quotes for c in checked.claims] == [['said "no" to the plan']]
    assert checked.markdown == "The plan was refused [1]. Also. [unverified]"
    assert [c.source_ids for c in checked.unverified] == [[4]]


def test_claims_are_sentences_with_markers_and_keep_the_markdown() -> None:
    draft = (
        "# Battery wear\n\n"
        "Short answer: heat and charge level.\n\n"
        '- Heat ages cells [1: "kept hot"]. Charge limits help [2].\n'
        "1. Both matter [1, 2].\n\n"
        "```\nnot a claim [9]\n```\n"
        "See [the guide](https://example.org) and note 3.5% [2]."
    )

    checked = check_citations(draft, SOURCES)

    assert checked.markdown == (
        "# Battery wear\n\n"
        "Short answer: heat and charge level.\n\n"
        "- Heat ages cells [1]. Charge limits help [2].\n"
        "1. Both matter [1, 2].\n\n"
        "```\nnot a claim [9]\n```\n"
        "See [the guide](https://example.org) and note 3.5% [2]."
    )
    assert [(c.text, c.source_ids) for c in checked.claims] == [
        ("Heat ages cells.", [1]),
        ("Charge limits help.", [2]),
        ("Both matter.", [1, 2]),
        ("See [the guide](https://example.org) and note 3.5%.", [2]),
    ]
    assert checked.unverified == []


def test_a_marker_after_the_full_stop_belongs_to_the_sentence_before_it() -> None:
    checked = check_citations("Heat ages cells. [1] Cold storage helps. [5]", SOURCES)

    assert [c.source_ids for c in checked.claims] == [[1]]
    assert [(c.text, c.source_ids) for c in checked.unverified] == [("Cold storage helps.", [5])]
    assert checked.markdown == "Heat ages cells. [1] Cold storage helps. [unverified]"


def test_unread_numbers_are_removed_even_beside_valid_ones() -> None:
    checked = check_citations('Heat ages cells [1: "kept hot"; 7].', SOURCES)

    assert checked.markdown == "Heat ages cells [1]. [unverified]"
    assert checked.removed_citations == 1
    (claim,) = checked.unverified
    assert claim.source_ids == [1, 7]
    assert claim.quotes == ["kept hot"]


def test_a_quote_from_another_source_fails() -> None:
    # true of source 2, but attached to source 1
    checked = check_citations('Charge limits help [1: "between 20 and 80 percent"].', SOURCES)

    assert [c.problems for c in checked.unverified] == [
        ['the quote for [1] is not in that source: "between 20 and 80 percent"']
    ]


def test_remove_policy_drops_failed_sentences_and_emptied_lines() -> None:
    draft = "Heat ages cells [1]. Cold helps [4].\n- Only unread [5].\n- Fine [2]."

    checked = check_citations(draft, SOURCES, policy="remove")

    assert checked.markdown == "Heat ages cells [1].\n- Fine [2]."
    assert len(checked.unverified) == 2


def test_an_unclosed_bracket_full_of_quotes_does_not_backtrack_forever() -> None:
    # Each quoted piece could be read two ways; without atomic matching this is 2**5000.
    draft = "[" + ' "a" ' * 5000 + " and a claim [1]."

    checked = check_citations(draft, SOURCES)

    assert [c.source_ids for c in checked.claims] == [[1]]


@pytest.mark.parametrize(
    ("draft", "markdown"),
    [
        ("Heat ages cells [1-3].", "Heat ages cells [1, 2]. [unverified]"),
        ("Heat ages cells [1\u20133].", "Heat ages cells [1, 2]. [unverified]"),
        ("Heat ages cells [^3].", "Heat ages cells. [unverified]"),
        ("Heat ages cells [1][^3].", "Heat ages cells [1]. [unverified]"),
        ("Heat ages cells 【3】.", "Heat ages cells. [unverified]"),
        ("Heat ages cells 【3†source】.", "Heat ages cells. [unverified]"),
        ("Heat ages cells [3](https://example.org/a).", "Heat ages cells. [unverified]"),
        ("Heat ages cells [#3].", "Heat ages cells. [unverified]"),
        ("Heat ages cells [Source: 3].", "Heat ages cells. [unverified]"),
    ],
)
def test_every_way_of_writing_a_citation_is_checked(draft: str, markdown: str) -> None:
    checked = check_citations(draft, SOURCES)

    assert checked.markdown == markdown
    (claim,) = checked.unverified
    assert "cites [3], a source that was not read" in claim.problems


def test_a_read_source_cited_as_a_footnote_or_a_fullwidth_bracket_is_verified() -> None:
    checked = check_citations("Heat ages cells 【1†source】. Charge limits help [^2].", SOURCES)

    assert checked.markdown == "Heat ages cells [1]. Charge limits help [2]."
    assert [c.source_ids for c in checked.claims] == [[1], [2]]


def test_a_fence_marked_markdown_is_checked_as_prose_and_code_is_left_alone() -> None:
    draft = "```markdown\nHeat ages cells [1]. Cold helps [3].\n```\n```python\nx = a[3]\n```"

    checked = check_citations(draft, SOURCES)

    assert checked.markdown == (
        "```markdown\nHeat ages cells [1]. Cold helps. [unverified]\n```\n```python\nx = a[3]\n```"
    )
    assert [c.source_ids for c in checked.unverified] == [[3]]


@pytest.mark.parametrize(
    "quote",
    ["the", "hot", "cells", "ells lose", "lose capacity fast", "ium-ion cells", "cells ... hot"],
)
def test_a_short_or_part_word_quote_verifies_nothing(quote: str) -> None:
    assert quote_in_text(quote, SOURCES[1]) is False


def test_a_quote_of_a_markdown_link_s_text_is_found() -> None:
    text = "See the [BM25 paper](https://example.org/bm25.pdf) for the *exact* formula."

    assert quote_in_text("see the BM25 paper for the exact formula", text) is True


def test_words_a_claim_puts_in_quotation_marks_must_be_in_a_cited_source() -> None:
    draft = (
        'The study warns that "heat destroys every cell" [1]. '
        "Cells “lose capacity faster when they are kept hot” [1]. "
        'So-called "smart" charging helps [2].'
    )

    checked = check_citations(draft, SOURCES)

    (flagged,) = checked.unverified
    assert flagged.problems == [
        'the quoted words are in none of the sources cited: "heat destroys every cell"'
    ]
    assert [c.quotes for c in checked.claims] == [
        ["lose capacity faster when they are kept hot"],
        [],  # one word in quotation marks is emphasis, not a quotation
    ]


def test_a_word_hyphenated_across_a_line_break_matches_the_whole_word() -> None:
    pdf_text = "Lithium-\nion cells lose capac-\nity faster when they are kept hot."

    assert quote_in_text("lose capacity faster", pdf_text) is True
    assert quote_in_text("Lithium-ion cells", pdf_text) is True
    assert quote_in_text("lose capacity slower", pdf_text) is False


def test_a_quote_may_end_at_an_em_dash_and_ranges_match_with_any_dash() -> None:
    text = "Cells wear faster when kept hot\u2014as the 20\u201380 percent rule says."

    assert quote_in_text("wear faster when kept hot", text) is True
    assert quote_in_text("the 20-80 percent rule", text) is True
    assert quote_in_text("the 20 percent rule", text) is False


def test_a_marker_broken_over_two_lines_is_checked_as_one() -> None:
    checked = check_citations("Heat ages cells [1,\n3]. Charge limits help [2].", SOURCES)

    assert checked.markdown == "Heat ages cells [1]. [unverified] Charge limits help [2]."
    assert [c.source_ids for c in checked.unverified] == [[1, 3]]
