"""Evidence that supports the value, end to end over the OpenAI wire (respx): a quote found
in the text but not stating the value is `found_not_supporting`, loses confidence and the
merge, and is named in the warnings and the review; amounts and dates written otherwise
than the value still verify it."""

from __future__ import annotations

from datetime import date

import pytest
import respx
from documents_wire import ExtractionModel, Fact
from invoice_fixtures import INVOICE_TEXT, Invoice, Order
from pydantic import BaseModel

from agents.documents import ExtractionWorkflow, ReviewRequired, ReviewResponse
from agents.llm.openai.client import OpenAI

NORTHWIND = """NORTHWIND SUPPLIES LTD.
Unit 4, Riverside Trading Estate, Bristol BS2 0XY

Invoice NW-2041
Total due (GBP): 552.60
"""
ADDRESS = "Unit 4, Riverside Trading Estate, Bristol BS2 0XY"


def vendor_quoted_from_the_address_line() -> ExtractionModel:
    """The failure seen with a small model: the vendor is right, but its quote is the line
    under the name, which is in the text and does not say "Northwind"."""
    return ExtractionModel(
        [
            Fact("vendor", "Northwind Supplies Ltd.", ADDRESS, 0.9),
            Fact("total", 552.6, "Total due (GBP): 552.60", 0.9),
        ]
    )


async def test_a_vendor_quoted_from_the_address_line_is_found_but_not_supported(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(side_effect=vendor_quoted_from_the_address_line())

    result = await ExtractionWorkflow(llm=llm, schema=Order).run(documents=[NORTHWIND])

    vendor = result.fields["vendor"]
    assert not vendor.verified
    (quote,) = vendor.quotes
    assert not quote.verified
    assert quote.status == "found_not_supporting"
    assert NORTHWIND[quote.start : quote.end] == ADDRESS  # found: a person can see where
    assert vendor.confidence == pytest.approx(0.9 * 0.5)  # the workflow's unverified_penalty
    assert vendor.status == "found"
    assert result.data.vendor == "Northwind Supplies Ltd."
    assert f"vendor: its quote {ADDRESS!r} does not state 'Northwind Supplies Ltd.'" in (
        result.warnings
    )
    total = result.fields["total"]
    assert (total.verified, total.quotes[0].status, total.confidence) == (True, "verified", 0.9)
    assert not any(warning.startswith("total:") for warning in result.warnings)
    # The status is in the result's JSON, next to `verified`.
    printed = result.model_dump(mode="json")["fields"]["vendor"]["quotes"][0]
    assert (printed["status"], printed["verified"]) == ("found_not_supporting", False)


async def test_a_supported_value_wins_over_a_surer_one_whose_quote_does_not_state_it(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    delivery = "Delivery note\nShipped from Unit 4, Riverside Trading Estate, Bristol\n"
    model = ExtractionModel(
        [
            Fact(
                "vendor",
                "Contoso Manufacturing plc",
                "Unit 4, Riverside Trading Estate",
                0.99,
                anchor="Delivery note",
            ),
            Fact("vendor", "Northwind Supplies Ltd.", "NORTHWIND SUPPLIES LTD.", 0.7),
            Fact("total", 552.6, "Total due (GBP): 552.60"),
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=Order).run(documents=[delivery, NORTHWIND])

    vendor = result.fields["vendor"]
    assert result.data.vendor == "Northwind Supplies Ltd."
    assert (vendor.verified, vendor.confidence) == (True, 0.7)
    (other,) = vendor.alternatives
    assert other.value == "Contoso Manufacturing plc"
    assert not other.verified
    assert other.quotes[0].status == "found_not_supporting"
    assert other.confidence == pytest.approx(0.99 * 0.5)


async def test_a_misread_amount_with_a_true_quote_is_not_supported(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    text = "Order 1177\nVendor: Acme Tools GmbH\nTotal due: $1,234.50\n"
    model = ExtractionModel(
        [
            Fact("vendor", "Acme Tools GmbH", "Vendor: Acme Tools GmbH"),
            Fact("total", 1243.5, "Total due: $1,234.50"),  # two digits swapped
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=Order).run(documents=[text])

    total = result.fields["total"]
    assert not total.verified
    assert total.quotes[0].status == "found_not_supporting"
    assert "total: its quote 'Total due: $1,234.50' does not state 1243.5" in result.warnings


class Dated(BaseModel):
    issued: date
    due: date
    paid_on: date
    total: float
    tax_rate: float
    quantity: int


DATED = """Issued: March 5, 2024
Due on 04/04/2024, paid on 12.04.24
Total: $1,234.50 (VAT 20%)
Quantity: 1 200 units
"""


async def test_amounts_percentages_and_dates_written_otherwise_still_verify(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ExtractionModel(
        [
            Fact("issued", "2024-03-05", "Issued: March 5, 2024"),
            Fact("due", "2024-04-04", "Due on 04/04/2024"),
            Fact("paid_on", "2024-04-12", "paid on 12.04.24"),
            Fact("total", 1234.5, "Total: $1,234.50"),
            Fact("tax_rate", 0.2, "VAT 20%"),
            Fact("quantity", 1200, "Quantity: 1 200 units"),
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=Dated).run(documents=[DATED])

    assert {name: f.quotes[0].status for name, f in result.fields.items()} == dict.fromkeys(
        result.fields, "verified"
    )
    assert result.warnings == []
    assert result.data.total == 1234.5


async def test_a_list_item_whose_quote_lacks_its_amount_is_named_with_the_part_missing(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ExtractionModel(
        [
            Fact("invoice_number", "INV-2041", "Invoice number: INV-2041"),
            Fact("vendor", "Northwind Supplies Ltd.", "Issued by: Northwind Supplies Ltd."),
            Fact("invoice_date", "2024-03-15", "Date: 2024-03-15"),
            Fact("total", 552.6, "Total due: 552.60"),
            Fact(
                "line_items",
                {"description": "Steel brackets", "amount": 320.0},
                "Steel brackets, 40 units ........ 320.00",
            ),
            # Found in the text, and names the item, but its amount is on another line.
            Fact("line_items", {"description": "Hex bolts M8", "amount": 95.5}, "Hex bolts M8"),
            # Not in the text at all: it has no place, so it comes first.
            Fact(
                "line_items",
                {"description": "Delivery", "amount": 45.0},
                "Delivery: 45.00",
                anchor="Delivery to site",
            ),
        ]
    )
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=Invoice).run(documents=[INVOICE_TEXT])

    items = result.fields["line_items"]
    assert [item.verified for item in items.items] == [False, True, False]
    assert [item.quotes[0].status for item in items.items] == [
        "not_found",
        "verified",
        "found_not_supporting",
    ]
    assert not items.verified
    assert items.confidence == pytest.approx(0.9 * 0.5)
    assert [w for w in result.warnings if w.startswith("line_items")] == [
        "line_items[1]: no quote for it was found in the document",
        "line_items[3]: its quote 'Hex bolts M8' does not state amount=95.5",
    ]


async def test_the_review_names_the_quote_that_does_not_state_the_value(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(side_effect=vendor_quoted_from_the_address_line())
    workflow = ExtractionWorkflow(llm=llm, schema=Order, review="low_confidence")

    handler = workflow.run(documents=[NORTHWIND])
    reasons: list[str] = []
    async for ev in handler.stream_events():
        if isinstance(ev, ReviewRequired):
            reasons = ev.reasons
            handler.ctx.send_event(ReviewResponse(approved=True))
    await handler

    assert reasons == [
        f"vendor: its quote {ADDRESS!r} does not state 'Northwind Supplies Ltd.'",
        "vendor: confidence 0.45 is below 0.70",
    ]
