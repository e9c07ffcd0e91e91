"""Whether a quote states a value: the second half of verifying a quote, after finding it.

A quote found in the document proves nothing about a value it does not contain ("vendor:
Northwind" quoted from the address line under the name). `unstated(value, quote)` lists
the parts of the value the quote does not state; none means the quote supports it.

How each kind of JSON value is looked for in the quote:

- **Text**: its words, in order, among the quote's words: case, spacing, punctuation and
  typography aside ("Northwind Supplies Ltd." is in "NORTHWIND SUPPLIES LTD"), never
  inside a longer word ("Contoso" is not in "Contosoville").
- **Numbers** (and text that is a plain number or an amount, as pydantic writes `Decimal`s):
  equal to a number the quote writes, in any of these conventions: `1234.5`, `1,234.50`,
  `1.234,50`, `1 234,50` (also with a non-breaking or thin space), `1'234.50`, Indian
  `12,34,567.00`. A written number that fits two conventions ("1,234") supports both
  readings (1234 and 1.234). Currency signs and codes, signs and trailing zeros are not
  compared ("$552.60", "-552.6" and "552.6 GBP" all state 552.6: a discount is often
  printed unsigned and extracted negative); a percentage also states its fraction
  ("20%" states 20 and 0.2). Numbers written in words are not read.
- **Dates** (text in ISO form, as pydantic writes dates; a datetime's date part, its time
  not compared): the quote writes that date as `2024-03-05`, `2024/03/05`, `05/03/2024`,
  `05.03.24`, `5 March 2024`, `5th of Mar. 2024`, `March 5, 2024` or `5-Mar-2024`. Month
  names are English. A numeric date whose day and month could be swapped ("05/03/2024")
  supports both readings (5 March and 3 May): the quote alone cannot say which order its
  document uses, so the check proves the date is written there, not the order.
- **Booleans and nulls** are not looked for: no passage "contains" `true`; a found quote
  is all the evidence they get.
- **Objects and lists** (a list field's item is one value): every leaf above, each found
  on its own; the parts missing are named by their path ("amount", "lines.0.sku").

Written by hand because no library does the job: parsers such as dateutil or babel read
one string as one value in one locale, while this check must find a known value among
every reading of every number or date a passage writes (and none of them is a dependency
of `agents`; some arrive only with the `web` extra).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

PLAIN_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
    }
)
"""Typographic quotes, dashes and narrow or non-breaking spaces as their plain forms."""


@dataclass(frozen=True)
class Unstated:
    """A part of a value that a quote does not state."""

    path: str
    """Where in the value: "" for the value itself, "amount" or "lines.0.sku" inside one."""
    value: Any
    """The part itself (a string, number or ISO date, in JSON form)."""

    def __str__(self) -> str:
        return f"{self.path}={self.value!r}" if self.path else repr(self.value)


def unstated(value: Any, quote: str) -> list[Unstated]:
    """The parts of `value` (in JSON form) that `quote` does not state; empty when the
    quote supports the whole value."""
    text = _plain(quote)
    return [Unstated(path, leaf) for path, leaf in _leaves(value, "") if not _states(text, leaf)]


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}.{index}" if path else str(index))
    elif value is not None and not isinstance(value, bool):
        yield path, value


def _plain(text: str) -> str:
    """`text` compatibility-normalised (ligatures, full-width digits), with plain
    punctuation, case folded and runs of whitespace as one space."""
    folded = unicodedata.normalize("NFKC", text).translate(PLAIN_PUNCTUATION).casefold()
    return " ".join(folded.split())


def _states(text: str, leaf: Any) -> bool:
    if isinstance(leaf, (int, float)):
        return _states_number(text, {Decimal(str(leaf))})
    written = _plain(str(leaf))
    if _states_words(text, written):
        return True
    numbers = _written_number(written)
    if numbers:
        return _states_number(text, numbers)
    day = _iso_date(written)
    return day is not None and day in _dates(text, day)


# -- text ----------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _states_words(text: str, value: str) -> bool:
    """Whether the words of `value` occur in `text`, in order and next to each other."""
    wanted = _WORD.findall(value)
    if not wanted:  # nothing but punctuation: looked for as it is
        return value in text
    words = _WORD.findall(text)
    return any(words[at : at + len(wanted)] == wanted for at in range(len(words)))


# -- numbers -------------------------------------------------------------------------------

# Digit groups joined by one separator each: "1,234.50", "1 234,50", "40 320.00".
_NUMBER_RUN = re.compile(r"\d+(?:[.,' ]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}([.,' ])\d{3}(?:\1\d{3})*|\d{1,2}(?:,\d{2})*,\d{3}")


def _written_number(written: str) -> set[Decimal]:
    """The readings of a text value that is a number or an amount ("552.60", "$1,234.50",
    "1 234,50 €"); empty for any other text."""
    bare = "".join(char for char in written if unicodedata.category(char) != "Sc")
    bare = bare.strip().lstrip("+-")
    return _readings(bare) if _NUMBER_RUN.fullmatch(bare) else set()


def _states_number(text: str, wanted: set[Decimal]) -> bool:
    magnitudes = {abs(number) for number in wanted}
    return any(number in magnitudes for number in _numbers(text))


_MOST_SPACED_GROUPS = 7
"""Most space-separated digit groups one number is read from ("1 234 567 890 123,45"):
a long table row of numbers is read as short stretches, not every stretch of it."""


def _numbers(text: str) -> Iterator[Decimal]:
    """Every reading of every number `text` writes. A space is a thousands separator or
    a gap between two numbers ("40 320.00" in a table row), so each stretch of a run
    between spaces is read too."""
    for run in _NUMBER_RUN.finditer(text):
        parts = run.group().split(" ")
        percent = text[run.end() : run.end() + 2].lstrip().startswith("%")
        for first in range(len(parts)):
            for last in range(first, min(len(parts), first + _MOST_SPACED_GROUPS)):
                for number in _readings(" ".join(parts[first : last + 1])):
                    yield number
                    if percent and last == len(parts) - 1:
                        yield number / 100


def _readings(written: str) -> set[Decimal]:
    """What `written` (digits and separators) may mean: with no decimal part, or with
    its last "." or "," as the decimal mark; thousands groups checked either way."""
    readings: set[Decimal] = set()
    whole = _whole_number(written)
    if whole is not None:
        readings.add(Decimal(whole))
    for mark in ".,":
        head, found, fraction = written.rpartition(mark)
        if found and fraction.isdigit() and mark not in head:
            digits = _whole_number(head)
            if digits is not None:
                readings.add(Decimal(f"{digits}.{fraction}"))
    return readings


def _whole_number(written: str) -> str | None:
    """The digits of a whole number, bare or in thousands groups; None when `written`
    is neither."""
    if written.isdigit():
        return written
    if _THOUSANDS.fullmatch(written):
        return re.sub(r"\D", "", written)
    return None


# -- dates ---------------------------------------------------------------------------------

_MONTH_NAMES = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sept", "sep"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?\b\.?"
_YEAR = r"(\d{4}|\d{2})(?!\d)"
_GAP = r"[ /-]?"
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,4})([./-])(\d{1,2})\2(\d{4}|\d{1,2})(?!\d)")
_DAY_MONTH_YEAR = re.compile(rf"(?<!\d){_DAY}{_GAP}(?:of )?{_MONTH},?{_GAP}{_YEAR}")
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}{_GAP}{_DAY},?{_GAP}{_YEAR}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[t ][\d:.]+(?:z|[+-][\d:]+)?)?")


def _iso_date(written: str) -> date | None:
    """The date of a text value in ISO form ("2024-03-05", "2024-03-05T10:30:00Z")."""
    match = _ISO_DATE.fullmatch(written.strip().casefold())
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _dates(text: str, near: date) -> set[date]:
    """Every date `text` writes, in every reading it allows. A two-digit year is read
    in the century of `near`, the value looked for."""
    found: set[date] = set()
    for match in _NUMERIC_DATE.finditer(text):
        first, _, middle, last = match.groups()
        if len(first) == 4:
            found.update(_date(near, first, middle, last))
        elif len(last) in (2, 4):
            found.update(_date(near, last, middle, first))  # day first
            found.update(_date(near, last, first, middle))  # month first
    for match in _DAY_MONTH_YEAR.finditer(text):
        day, month, year = match.groups()
        found.update(_date(near, year, str(_MONTHS[month]), day))
    for match in _MONTH_DAY_YEAR.finditer(text):
        month, day, year = match.groups()
        found.update(_date(near, year, str(_MONTHS[month]), day))
    return found


def _date(near: date, year: str, month: str, day: str) -> list[date]:
    full = int(year) if len(year) == 4 else near.year - near.year % 100 + int(year)
    try:
        return [date(full, int(month), int(day))]
    except ValueError:  # not a date in this reading (month 13, 30 February)
        return []
