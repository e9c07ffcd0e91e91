"""A JSON Schema dict as the schema: checked when the workflow is built (valid Draft
2020-12, an object of fields, expressible in strict mode), sent as the user wrote it, each
reply and the result validated against it, with evidence per field as for a model."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import respx
from documents_wire import ExtractionModel, Fact
from lease_fixtures import LEASE_DATA, LEASE_FACTS, LEASE_SCHEMA, LEASE_TEXT

from agents.documents import (
    ExtractionWorkflow,
    IncompleteExtractionError,
    InvalidJsonSchemaError,
    ReviewRequired,
    ReviewResponse,
    SchemaMismatch,
    SchemaNotSupportedError,
)
from agents.documents.json_schema import JsonSchema
from agents.llm.errors import StrictSchemaError
from agents.llm.openai.client import OpenAI


def with_property(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(LEASE_SCHEMA)
    changed["properties"][name] = schema
    return changed


def test_an_invalid_json_schema_is_refused_naming_where(llm: OpenAI) -> None:
    broken = with_property("rent", {"type": "money"})

    with pytest.raises(InvalidJsonSchemaError, match=r"Lease .* at properties\.rent\.type") as info:
        ExtractionWorkflow(llm=llm, schema=broken)

    assert info.value.path == "properties.rent.type"


def test_a_schema_strict_mode_cannot_express_is_refused_naming_keyword_and_path(
    llm: OpenAI,
) -> None:
    free_form = with_property(
        "signatories",
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"notes": {"type": "object", "additionalProperties": True}},
            },
        },
    )

    with pytest.raises(StrictSchemaError, match="JSON schema 'Lease'") as info:
        ExtractionWorkflow(llm=llm, schema=free_form)

    assert (info.value.keyword, info.value.path) == ("additionalProperties", "signatories[].notes")


def test_a_schema_that_is_not_an_object_of_fields_is_refused(llm: OpenAI) -> None:
    with pytest.raises(SchemaNotSupportedError, match="each property is a field"):
        ExtractionWorkflow(llm=llm, schema={"type": "array", "items": {"type": "string"}})
    with pytest.raises(SchemaNotSupportedError, match="must point at one of its own"):
        ExtractionWorkflow(llm=llm, schema=with_property("rent", {"$ref": "#/$defs/Money"}))
    nested_true = with_property("rent", {"type": "object", "properties": {"amount": True}})
    with pytest.raises(SchemaNotSupportedError, match=r"Lease\.rent\.amount: a field's schema"):
        ExtractionWorkflow(llm=llm, schema=nested_true)
    recursive = copy.deepcopy(LEASE_SCHEMA)
    recursive["$defs"]["Signatory"]["properties"]["deputy"] = {"$ref": "#/$defs/Signatory"}
    with pytest.raises(SchemaNotSupportedError, match=r"signatories\[\]\.deputy: .* recursive"):
        ExtractionWorkflow(llm=llm, schema=recursive)


async def test_a_json_schema_extracts_a_dict_with_evidence_per_field(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    model = ExtractionModel(LEASE_FACTS)
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ExtractionWorkflow(llm=llm, schema=LEASE_SCHEMA)

    result = await workflow.run(documents=[{"text": LEASE_TEXT, "name": "lease.txt"}])

    assert result.data == LEASE_DATA
    rent = result.fields["rent"]
    assert rent.verified
    assert LEASE_TEXT[rent.quotes[0].start : rent.quotes[0].end] == "Monthly rent: 1,250.00 GBP"
    signatories = result.fields["signatories"]
    assert [item.value["name"] for item in signatories.items] == ["Dana Whitfield", "Owen Maple"]
    assert all(item.verified and item.quotes[0].file == "lease.txt" for item in signatories.items)
    # The user's sub-schemas went out as written, `$ref` inlined, descriptions kept.
    sent = model.requests[0]["response_format"]["json_schema"]["schema"]
    signatory = sent["$defs"]["Lease_signatories_found"]["properties"]["value"]
    assert signatory["properties"]["role"]["enum"] == ["tenant", "landlord"]
    assert signatory["properties"]["name"]["description"] == "As signed."
    assert "Signatory" not in json.dumps(sent)


async def test_a_reply_breaking_the_json_schema_is_re_asked_with_the_path(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    """`maxLength` is left out of the strict schema sent, and checked on the reply."""

    def long_currency_first(text: str, body: dict[str, Any]) -> str | None:
        if len(model.requests) > 1:
            return None
        reply = copy.deepcopy(model.answer(body, text))  # the facts' values are shared
        reply["rent"]["value"]["currency"] = "Pounds"
        return json.dumps(reply)

    model = ExtractionModel(LEASE_FACTS, override=long_currency_first)
    api.post("/chat/completions").mock(side_effect=model)
    workflow = ExtractionWorkflow(llm=llm, schema=LEASE_SCHEMA)

    result = await workflow.run(documents=[LEASE_TEXT])

    assert result.data == LEASE_DATA
    reask = model.requests[1]["messages"][-1]["content"]
    assert "rent.value" in reask
    assert "'Pounds' is too long (at currency)" in reask


async def test_the_result_is_validated_against_the_json_schema(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    without_landlord = [fact for fact in LEASE_FACTS if fact.field != "landlord"]
    api.post("/chat/completions").mock(side_effect=ExtractionModel(without_landlord))
    workflow = ExtractionWorkflow(llm=llm, schema=LEASE_SCHEMA)

    with pytest.raises(IncompleteExtractionError, match="not a valid Lease") as info:
        await workflow.run(documents=[LEASE_TEXT])

    assert info.value.problems == {"landlord": "not found in any document"}
    assert info.value.schema is LEASE_SCHEMA
    assert info.value.partial["rent"] == {"amount": 1250.0, "currency": "GBP"}


async def test_a_correction_is_checked_against_the_json_schema_at_its_path(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    api.post("/chat/completions").mock(side_effect=ExtractionModel(LEASE_FACTS))
    workflow = ExtractionWorkflow(llm=llm, schema=LEASE_SCHEMA, review="always")
    wrong = [{"name": "Dana Whitfield", "role": "tenant"}, {"name": "Owen Maple", "role": "x"}]
    answers = iter(
        [
            ReviewResponse(corrections={"signatories": wrong}),
            ReviewResponse(approved=True, corrections={"landlord": "Maple Court"}),
        ]
    )

    handler = workflow.run(documents=[LEASE_TEXT])
    problems: list[list[str]] = []
    async for ev in handler.stream_events():
        if isinstance(ev, ReviewRequired):
            problems.append(ev.problems)
            handler.ctx.send_event(next(answers))
    result = await handler

    assert problems[0] == []
    (problem,) = problems[1]
    # The same form as a pydantic model's correction: the key path from the field.
    assert problem == (
        "correction for signatories.1.role was not applied: 'x' is not one of "
        "['tenant', 'landlord']"
    )
    assert result.data == {**LEASE_DATA, "landlord": "Maple Court"}
    assert result.fields["landlord"].status == "corrected"


async def test_a_quote_not_stating_a_nested_value_names_its_key_path(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    facts = [
        Fact("rent", {"amount": 1250.0, "currency": "GBP"}, "Monthly rent: 1,250.00")
        if fact.field == "rent"
        else Fact(fact.field, fact.value, "Signed: Owen Maple", anchor=fact.quote)
        if fact.value == {"name": "Owen Maple", "role": "landlord"}
        else fact
        for fact in LEASE_FACTS
    ]
    api.post("/chat/completions").mock(side_effect=ExtractionModel(facts))

    result = await ExtractionWorkflow(llm=llm, schema=LEASE_SCHEMA).run(documents=[LEASE_TEXT])

    assert result.fields["rent"].quotes[0].status == "found_not_supporting"
    owen = result.fields["signatories"].items[1]
    assert (owen.verified, owen.quotes[0].status) == (False, "found_not_supporting")
    assert "rent: its quote 'Monthly rent: 1,250.00' does not state currency='GBP'" in (
        result.warnings
    )
    assert (
        "signatories[2]: its quote 'Signed: Owen Maple' does not state role='landlord'"
        in result.warnings
    )


async def test_a_value_breaking_a_string_format_is_re_asked(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    """The schema says "format": "date"; jsonschema only checks formats given a checker."""
    written = Fact("start_date", "1 March 2025", "The term starts on 1 March 2025.")

    def written_date_first(text: str, body: dict[str, Any]) -> str | None:
        if len(model.requests) > 1:
            return None
        reply = copy.deepcopy(model.answer(body, text))
        reply["start_date"] = written.entry()
        return json.dumps(reply)

    model = ExtractionModel(LEASE_FACTS, override=written_date_first)
    api.post("/chat/completions").mock(side_effect=model)

    result = await ExtractionWorkflow(llm=llm, schema=LEASE_SCHEMA).run(documents=[LEASE_TEXT])

    assert len(model.requests) == 2
    reask = model.requests[1]["messages"][-1]["content"]
    assert "'1 March 2025' is not a 'date'" in reask
    assert result.data["start_date"] == "2025-03-01"


def test_a_field_the_reply_model_cannot_ask_for_is_refused_at_construction(
    llm: OpenAI,
) -> None:
    """An array without "items" passes the whole schema's strict check, but its items are
    asked for one by one, as a value with no type."""
    no_items = with_property("tags", {"type": "array", "description": "Tags."})

    with pytest.raises(StrictSchemaError, match="type"):
        ExtractionWorkflow(llm=llm, schema=no_items)


def test_required_naming_a_property_that_is_not_there_is_refused_with_its_path(
    llm: OpenAI,
) -> None:
    top = copy.deepcopy(LEASE_SCHEMA)
    top["required"].append("deposit")
    with pytest.raises(SchemaNotSupportedError, match=r"Lease\.\(schema\): .*'deposit'"):
        ExtractionWorkflow(llm=llm, schema=top)

    nested = copy.deepcopy(LEASE_SCHEMA)
    nested["$defs"]["Signatory"]["required"].append("signed_on")
    with pytest.raises(SchemaNotSupportedError, match=r"Lease\.signatories\[\]: .*'signed_on'"):
        ExtractionWorkflow(llm=llm, schema=nested)


def checked(llm: OpenAI, schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` as a workflow built with it extracts it."""
    target = ExtractionWorkflow(llm=llm, schema=schema).target
    assert isinstance(target, JsonSchema)
    return target.checked


def test_a_ref_is_read_as_a_json_pointer(llm: OpenAI) -> None:
    escaped = {
        "type": "object",
        "properties": {"landlord": {"$ref": "#/$defs/Party~1Name", "description": "Lets."}},
        "$defs": {"Party/Name": {"type": "string"}},
    }
    assert checked(llm, escaped)["properties"] == {
        "landlord": {"type": "string", "description": "Lets."}
    }


def test_a_ref_key_inside_example_data_is_not_read_as_a_reference(llm: OpenAI) -> None:
    ref_as_data = with_property(
        "landlord",
        {"type": "string", "description": "Lets.", "examples": [{"$ref": "not a reference"}]},
    )
    inlined = checked(llm, ref_as_data)
    assert inlined["properties"]["landlord"]["examples"] == [{"$ref": "not a reference"}]


def test_a_schema_that_is_a_ref_at_its_root_is_read(llm: OpenAI) -> None:
    at_root = {"$ref": "#/$defs/Lease", "$defs": {"Lease": LEASE_SCHEMA | {"$defs": {}}}}
    at_root["$defs"]["Signatory"] = LEASE_SCHEMA["$defs"]["Signatory"]
    assert list(checked(llm, at_root)["properties"]) == list(LEASE_SCHEMA["properties"])


def test_every_problem_at_one_path_is_kept() -> None:
    schema = with_property(
        "landlord",
        {"type": "string", "description": "Lets.", "minLength": 40, "pattern": "^[a-z]+$"},
    )
    merged = {key: value for key, value in LEASE_DATA.items() if key != "start_date"}

    with pytest.raises(SchemaMismatch) as info:
        JsonSchema(schema).validated(merged)

    assert info.value.problems == {
        "landlord": "'Maple Court Properties Ltd.' is too short; "
        "'Maple Court Properties Ltd.' does not match '^[a-z]+$'",
        "start_date": "not found in any document",
    }
