"""A short lease, a JSON schema for it (nested objects, a list of objects, a `$ref`), and the
facts a stand-in model reports from it."""

from __future__ import annotations

from typing import Any

from documents_wire import Fact

LEASE_TEXT = (
    "RESIDENTIAL LEASE\n"
    "Landlord: Maple Court Properties Ltd.\n"
    "Tenant: Dana Whitfield\n"
    "Premises: Flat 3, 14 Orchard Lane, Bristol\n"
    "The term starts on 1 March 2025.\n"
    "Monthly rent: 1,250.00 GBP\n"
    "Signed: Dana Whitfield (tenant)\n"
    "Signed: Owen Maple (landlord)\n"
)

LEASE_SCHEMA: dict[str, Any] = {
    "title": "Lease",
    "type": "object",
    "properties": {
        "landlord": {"type": "string", "description": "Who lets the premises."},
        "rent": {
            "type": "object",
            "description": "The monthly rent.",
            "properties": {
                "amount": {"type": "number"},
                "currency": {"type": "string", "maxLength": 3},
            },
            "required": ["amount", "currency"],
        },
        "start_date": {"type": "string", "format": "date", "description": "First day."},
        "signatories": {
            "type": "array",
            "description": "Everyone who signed.",
            "items": {"$ref": "#/$defs/Signatory"},
        },
    },
    "required": ["landlord", "rent", "start_date"],
    "$defs": {
        "Signatory": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "As signed."},
                "role": {"type": "string", "enum": ["tenant", "landlord"]},
            },
            "required": ["name", "role"],
        }
    },
}

LEASE_FACTS = [
    Fact("landlord", "Maple Court Properties Ltd.", "Landlord: Maple Court Properties Ltd."),
    Fact("rent", {"amount": 1250.0, "currency": "GBP"}, "Monthly rent: 1,250.00 GBP"),
    Fact("start_date", "2025-03-01", "The term starts on 1 March 2025."),
    Fact(
        "signatories",
        {"name": "Dana Whitfield", "role": "tenant"},
        "Signed: Dana Whitfield (tenant)",
    ),
    Fact(
        "signatories",
        {"name": "Owen Maple", "role": "landlord"},
        "Signed: Owen Maple (landlord)",
    ),
]

LEASE_DATA = {
    "landlord": "Maple Court Properties Ltd.",
    "rent": {"amount": 1250.0, "currency": "GBP"},
    "start_date": "2025-03-01",
    "signatories": [
        {"name": "Dana Whitfield", "role": "tenant"},
        {"name": "Owen Maple", "role": "landlord"},
    ],
}
