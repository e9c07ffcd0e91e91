"""`agents.documents.support.unstated`: whether a quote states a value, for text, numbers
and amounts in several conventions, dates in several forms (both readings of an ambiguous
day/month order), booleans, and the leaves of nested values."""

from __future__ import annotations

from typing import Any

import pytest

from agents.documents.result import Quote
from agents.documents.support import Unstated, unstated


def states(quote: str, value: Any) -> bool:
    return unstated(value, quote) == []


@pytest.mark.parametrize(
    ("quote", "value"),
    [
        ("NORTHWIND SUPPLIES LTD.", "Northwind Supplies Ltd."),
        ("Issued by: Northwind  Supplies\nLtd", "northwind supplies ltd."),
        ("Vendor: \u201cAcme\u201d Tools \u2013 GmbH", '"Acme" Tools - GmbH'),
        ("Invoice NW 2041", "NW-2041"),
        ("Bill to: Contoso", "Contoso"),  # a value inside a longer quote
        ("Total \ufb01nal", "final"),  # a ligature from a PDF
        ("Ref: --", "--"),  # punctuation only: looked for as written
    ],
)
def test_text_is_compared_by_words_whatever_their_case_spacing_and_punctuation(
    quote: str, value: str
) -> None:
    assert states(quote, value)


@pytest.mark.parametrize(
    ("quote", "value"),
    [
        ("Unit 4, Riverside Trading Estate, Bristol", "Northwind Supplies Ltd."),
        ("Shipped to Contosoville", "Contoso"),  # never inside a longer word
        ("Supplies Northwind Ltd.", "Northwind Supplies Ltd."),  # the words out of order
        ("Northwind", "Northwind Supplies Ltd."),  # only part of the value
    ],
)
def test_text_not_in_the_quote_is_not_stated(quote: str, value: str) -> None:
    assert unstated(value, quote) == [Unstated("", value)]


@pytest.mark.parametrize(
    ("quote", "value"),
    [
        ("Total: 1234.5", 1234.5),
        ("Total: 1,234.50", 1234.5),
        ("Summe: 1.234,50", 1234.5),
        ("Summe: \u20ac1.234,50", 1234.5),
        ("Total : 1 234,50", 1234.5),
        ("Total : 1\u00a0234,50", 1234.5),
        ("Total : 1\u202f234,50", 1234.5),
        ("Total: 1 234.50", 1234.5),
        ("Betrag: 1'234.50", 1234.5),
        ("Betrag: 1\u2019234.50", 1234.5),
        ("Total: \u20b912,34,567.00", 1234567),
        ("Amount due: $552.60", 552.6),
        ("Amount due: 552.60 GBP", 552.6),
        ("Amount due: GBP552.60", 552.6),
        ("Discount: 50.00", -50),  # signs are not compared
        ("Discount: -50.00", 50),
        ("Units: 1,234", 1234),  # "1,234" reads as 1234 and as 1.234
        ("Weight: 1,234 kg", 1.234),
        ("Units: 1.234", 1234),
        ("VAT at 20%", 0.2),
        ("VAT at 20 %", 20),
        ("VAT at 12,5%", 0.125),
        ("Qty 40        8.00       320.00", 320),  # numbers in a table row
        ("Qty 40 320.00", 40),
        ("Invoice INV-2041", 2041),
        ("Total due: 552.60", "552.60"),  # a Decimal, as pydantic writes it in JSON
        ("Total due: 552.6", "552.60"),
        ("Total due: 552.60 GBP", "\u00a3552.60"),
        ("Total due: 1234.50", "1,234.50"),  # a number as text, in another convention
        ("Total : 1 234,50 \u20ac", "$1,234.5"),
        ("Total due: \uff15\uff15\uff12.\uff16\uff10", 552.6),  # full-width digits
    ],
)
def test_numbers_and_amounts_are_compared_in_their_written_forms(quote: str, value: Any) -> None:
    assert states(quote, value)


def test_every_number_of_a_long_row_of_numbers_is_read() -> None:
    row = " ".join(f"{n}.25" for n in range(100, 400))

    assert states(row, 100.25)
    assert states(row, 399.25)
    assert not states(row, 400.25)


@pytest.mark.parametrize(
    ("quote", "value"),
    [
        ("Total due: $1,234.50", 1243.5),  # digits swapped
        ("Total due: 552.60", 55.26),
        ("Total: 1,234.5", 234.5),  # a group of a larger number is not a number
        ("Rate: 1.5", 15),
        ("Payment within thirty days", 30),  # numbers in words are not read
        ("Total: 1.234.5", 1234.5),  # fits no convention
        ("VAT at 20", 0.2),  # a fraction only from a percentage
    ],
)
def test_a_number_the_quote_does_not_write_is_not_stated(quote: str, value: Any) -> None:
    assert not states(quote, value)


@pytest.mark.parametrize(
    ("quote", "value"),
    [
        ("Invoice date: 2024-03-05", "2024-03-05"),
        ("Due: March 3, 2026", "2026-03-03"),
        ("Due: 03/03/2026", "2026-03-03"),
        ("Invoice date: 2024/03/05", "2024-03-05"),
        ("Date: 05/03/2024", "2024-03-05"),  # day first ...
        ("Date: 05/03/2024", "2024-05-03"),  # ... or month first: both readings
        ("Date: 13/03/2024", "2024-03-13"),
        ("Date: 03/13/2024", "2024-03-13"),
        ("Datum: 5.3.2024", "2024-03-05"),
        ("Datum: 05.03.24", "2024-03-05"),
        ("Issued on 5 March 2024", "2024-03-05"),
        ("Issued on 5th of Mar. 2024", "2024-03-05"),
        ("Issued on the 5th of March, 2024", "2024-03-05"),
        ("Issued: March 5, 2024", "2024-03-05"),
        ("Issued: Mar 5th 2024", "2024-03-05"),
        ("Issued: SEPT. 30, 2024", "2024-09-30"),
        ("Issued: 5-Mar-2024", "2024-03-05"),
        ("Issued: 5 Mar 24", "2024-03-05"),
        ("Sent March 5, 2024 at 10:30", "2024-03-05T10:30:00Z"),  # a datetime's date part
    ],
)
def test_dates_are_compared_in_their_written_forms(quote: str, value: str) -> None:
    assert states(quote, value)


@pytest.mark.parametrize(
    ("quote", "value"),
    [
        ("Date: 06/03/2024", "2024-03-05"),
        ("Date: 13/03/2024", "2024-13-03"),  # not a date: compared as text only
        ("Date: 05/03/2023", "2024-03-05"),
        ("Issued in March 2024", "2024-03-01"),  # no day written
        ("\u00c9mise le 5 mars 2024", "2024-03-05"),  # month names are English only
        ("Due: 2024-03-05", "2024-05-03"),  # ISO order is never swapped
        ("Order 5, March 2024 batch 12", "2024-03-12"),
    ],
)
def test_a_date_the_quote_does_not_write_is_not_stated(quote: str, value: str) -> None:
    assert not states(quote, value)


@pytest.mark.parametrize("value", [True, False, None])
def test_booleans_and_nulls_are_not_looked_for(value: Any) -> None:
    assert states("Status: settled", value)


def test_each_leaf_of_a_nested_value_is_looked_for_and_the_missing_ones_named() -> None:
    item = {"description": "Hex bolts M8", "amount": 95.5, "taxable": True, "note": None}

    assert states("Hex bolts M8, 500 units ......... 95.50", item)
    (missing,) = unstated(item, "Hex bolts M8, 500 units")
    assert missing == Unstated("amount", 95.5)
    assert str(missing) == "amount=95.5"
    nested = {"lines": [{"sku": "AX-7", "qty": 2}, {"sku": "BY-8", "qty": 3}]}
    assert [str(part) for part in unstated(nested, "AX-7 x 2, BY-8")] == ["lines.1.qty=3"]
    assert str(unstated("Northwind", "Contoso")[0]) == "'Northwind'"


def test_a_quote_saved_before_it_had_a_status_keeps_what_it_said() -> None:
    # A context saved by an earlier version holds quotes with `verified` only.
    old = Quote.model_validate({"text": "Total: 9.00", "file": "a.txt", "verified": True})
    unfound = Quote.model_validate({"text": "Total: 9.00", "file": "a.txt", "verified": False})

    assert (old.status, old.verified) == ("verified", True)
    assert (unfound.status, unfound.verified) == ("not_found", False)
    assert Quote.model_validate(old.model_dump()) == old
