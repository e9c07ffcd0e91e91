"""The invoice schema and documents the document tests extract from, made by the tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from documents_wire import Fact
from pydantic import BaseModel, Field


class LineItem(BaseModel):
    description: str
    amount: float


class Invoice(BaseModel):
    invoice_number: str = Field(description="The invoice's number, as printed")
    vendor: str = Field(description="Who issued the invoice")
    invoice_date: date
    total: float = Field(description="The amount due, tax included")
    line_items: list[LineItem] = Field(default_factory=list)
    po_number: str | None = None


INVOICE_TEXT = """INVOICE

Invoice number: INV-2041
Issued by: Northwind Supplies Ltd.
Date: 2024-03-15

Bill to: Contoso Manufacturing, 12 Harbour Road, Leeds.

Line items:
Steel brackets, 40 units ........ 320.00
Hex bolts M8, 500 units ......... 95.50
Delivery to site ................ 45.00

Notes: goods remain the property of the seller until paid in full. Payment within thirty
days of the invoice date. Late payments accrue interest at four percent per month.
Please quote the invoice number on every payment and correspondence with our office.

Subtotal: 460.50
VAT 20%: 92.10
Total due: 552.60
"""

INVOICE_FACTS = [
    Fact("invoice_number", "INV-2041", "Invoice number: INV-2041", 0.95),
    Fact("vendor", "Northwind Supplies Ltd.", "Issued by: Northwind Supplies Ltd.", 0.9),
    Fact("invoice_date", "2024-03-15", "Date: 2024-03-15", 0.9),
    Fact("total", 552.60, "Total due: 552.60", 0.95),
    Fact(
        "line_items",
        {"description": "Steel brackets", "amount": 320.0},
        "Steel brackets, 40 units ........ 320.00",
        0.9,
    ),
    Fact(
        "line_items",
        {"description": "Hex bolts M8", "amount": 95.5},
        "Hex bolts M8, 500 units ......... 95.50",
        0.85,
    ),
    Fact(
        "line_items",
        {"description": "Delivery to site", "amount": 45.0},
        "Delivery to site ................ 45.00",
        0.8,
    ),
]
"""What a model reads in `INVOICE_TEXT`, each with its quote."""

INVOICE = Invoice(
    invoice_number="INV-2041",
    vendor="Northwind Supplies Ltd.",
    invoice_date=date(2024, 3, 15),
    total=552.60,
    line_items=[
        LineItem(description="Steel brackets", amount=320.0),
        LineItem(description="Hex bolts M8", amount=95.5),
        LineItem(description="Delivery to site", amount=45.0),
    ],
)
"""`INVOICE_TEXT` as the schema."""


def write_invoice(folder: Path) -> Path:
    path = folder / "invoice.txt"
    path.write_text(INVOICE_TEXT, encoding="utf-8")
    return path


class Order(BaseModel):
    vendor: str
    total: float


REPEATED_LINES_TEXT = """INVOICE

Invoice number: INV-3107
Issued by: Northwind Supplies Ltd.
Date: 2024-05-02

Line items:
Pallet of bolts \u2013 80.00
Steel brackets \u2013 120.00

Notes: the first pallet was delivered to the north gate on Monday. The brackets came with
it on the same truck, and the driver asked for a signature on the delivery note.

Line items delivered on Thursday:
Pallet of bolts \u2013 80.00
Delivery to site \u2013 20.00

Total due: 300.00
"""
"""An invoice listing the same line twice, at two places: two items, not one."""
