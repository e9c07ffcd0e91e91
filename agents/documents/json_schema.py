"""A JSON Schema dict as what an extraction fills, instead of a pydantic model.

```python
LEASE = {
    "title": "Lease",
    "type": "object",
    "properties": {
        "landlord": {"type": "string", "description": "Who lets the property."},
        "rent": {"type": "number", "description": "Monthly rent."},
        "parties": {"type": "array", "items": {"$ref": "#/$defs/Party"}},
    },
    "required": ["landlord", "rent"],
    "$defs": {"Party": {"type": "object", "properties": {"name": {"type": "string"}}}},
}
ExtractionWorkflow(llm=llm, schema=LEASE)   # result.data is a dict valid against LEASE
```

When the workflow is built the dict is checked three ways, each refusal naming where:
it must be a valid Draft 2020-12 schema (`jsonschema`'s own check of it, against the
meta-schema: `InvalidJsonSchemaError`), an object whose properties are the fields to
extract (`SchemaNotSupportedError`), and expressible in OpenAI's strict mode, through the
one strict-schema rewriting the LLM clients use (`StrictSchemaError`, with the keyword and
the path). Each top-level property is then a `FieldSpec` as a pydantic model's field is:
an array is a list field, whose items get evidence one by one; anything else is one value.
A field's type is its sub-schema: shown to the LLM as is (`WithJsonSchema`) and checked
with `jsonschema` on every reply, so a reply that breaks it is re-asked with the error, and
a reviewer's correction that breaks it is refused naming the path inside the value.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

from agentflow.extras import extra_needed
from agents.documents.errors import (
    InvalidJsonSchemaError,
    SchemaMismatch,
    SchemaNotSupportedError,
    ValueMismatchError,
    schema_name,
)
from agents.documents.fields import FieldSpec, response_model
from agents.documents.schemas import ExtractionSchema, problems_by_path

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

_MISSING = "not found in any document"

_VALUE_KEYWORDS = frozenset({"default", "const", "enum", "examples"})
"""Keywords whose values are data, where a "$ref" key is not a reference."""


def check_json_schema(schema: Any) -> dict[str, Any]:
    """`schema` checked for extraction, its local `$ref`s replaced by what they point at.

    Raises `InvalidJsonSchemaError` (not valid Draft 2020-12), `SchemaNotSupportedError`
    (not an object with properties, or a reference that cannot be inlined) or
    `StrictSchemaError` (strict mode cannot express it), each naming the path."""
    from agents.llm.openai.strict_schema import strict_json_schema, strict_schema

    if not isinstance(schema, dict):
        raise TypeError(f"a JSON schema is a dict, got {type(schema).__name__}")
    name = schema_name(schema)
    with extra_needed("documents", "a JSON schema as the schema to extract"):
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise InvalidJsonSchemaError(name, key_path(error.path), error.message) from error
    inlined: dict[str, Any] = _inline_refs(schema, schema.get("$defs", {}), name, "", ())
    inlined.pop("$defs", None)
    properties = inlined.get("properties")
    if inlined.get("type") != "object" or not isinstance(properties, dict) or not properties:
        raise SchemaNotSupportedError(
            name,
            "(schema)",
            'must be {"type": "object", "properties": {...}}: each property is a field to extract',
        )
    _check_required(inlined, name, "")
    subject = f"JSON schema '{name}'"
    strict_schema(inlined, subject)
    # The requests carry reply models built per field (an array as its items), not the
    # schema itself: check those too, so what a request would refuse is refused here.
    specs = _field_specs(inlined)
    strict_json_schema(response_model(name, specs, list(specs)))
    return inlined


def key_path(parts: Iterable[Any]) -> str:
    """A path of keys and indexes as dotted text ("parties.0.name"), "(schema)" for none."""
    return ".".join(str(part) for part in parts) or "(schema)"


def _inline_refs(
    node: Any, defs: dict[str, Any], name: str, path: str, seen: tuple[str, ...]
) -> Any:
    """`node` with each `{"$ref": "#/$defs/X"}` replaced by `X` (its siblings kept).

    Written here because each field's sub-schema is sent and checked on its own, away from
    the root's `$defs`; jsonschema resolves references while validating but does not
    hand back a schema without them."""
    if isinstance(node, list):
        return [_inline_refs(item, defs, name, path, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        # A JSON pointer's segment: "~1" is "/", "~0" is "~" (in that order, RFC 6901).
        target = ref.removeprefix("#/$defs/").replace("~1", "/").replace("~0", "~")
        if not ref.startswith("#/$defs/") or target not in defs:
            raise SchemaNotSupportedError(
                name, path or "(schema)", f"$ref {ref!r} must point at one of its own $defs"
            )
        if target in seen:
            raise SchemaNotSupportedError(
                name,
                path or "(schema)",
                f"$ref {ref!r} is recursive; extraction needs a finite schema",
            )
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        resolved = _inline_refs(defs[target], defs, name, path, (*seen, target))
        return {**resolved, **_inline_refs(siblings, defs, name, path, seen)}
    inlined: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$defs":
            continue
        if key in _VALUE_KEYWORDS:  # data, not schemas: a "$ref" key there is a value
            inlined[key] = value
            continue
        if key == "properties" and isinstance(value, dict):
            for prop, sub in value.items():
                if not isinstance(sub, dict):  # true/false: valid, but no type to ask for
                    where = f"{path}.{prop}" if path else prop
                    raise SchemaNotSupportedError(name, where, "a field's schema must be an object")
            inlined[key] = {
                prop: _inline_refs(sub, defs, name, f"{path}.{prop}" if path else prop, seen)
                for prop, sub in value.items()
            }
        else:
            inlined[key] = _inline_refs(
                value, defs, name, f"{path}[]" if key == "items" else path, seen
            )
    return inlined


def _check_required(node: Any, name: str, path: str) -> None:
    """Refuse an object whose `required` names a property it does not have (valid JSON
    Schema, but no extraction could ever fill it), here and in every sub-schema."""
    if not isinstance(node, dict):
        return
    properties = node.get("properties")
    if isinstance(properties, dict):
        absent = [key for key in node.get("required", ()) if key not in properties]
        if absent:
            raise SchemaNotSupportedError(
                name,
                path or "(schema)",
                f"required names {', '.join(map(repr, absent))}, not among its properties",
            )
        for prop, sub in properties.items():
            _check_required(sub, name, f"{path}.{prop}" if path else prop)
    _check_required(node.get("items"), name, f"{path}[]")
    for keyword in ("anyOf", "allOf", "oneOf"):
        for option in node.get(keyword, ()):
            _check_required(option, name, path)


def _field_specs(checked: dict[str, Any]) -> dict[str, FieldSpec]:
    """A checked schema's top-level properties as fields: an array a list field."""
    required = set(checked.get("required", ()))
    return {
        name: FieldSpec(
            name=name,
            annotation=_value_type(sub),
            item=_value_type(sub.get("items", {})) if _is_array(sub) else None,
            required=name in required,
            description=sub.get("description"),
        )
        for name, sub in checked["properties"].items()
    }


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of `schema` that checks `format` too (jsonschema only annotates it
    unless given a format checker): a "date" field's "1 March 2025" is an error."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _checked_against(schema: dict[str, Any]) -> AfterValidator:
    """A pydantic validator holding a value to `schema`, its errors naming the path inside
    the value."""
    validator = _validator(schema)

    def check(value: Any) -> Any:
        errors = sorted(validator.iter_errors(value), key=lambda error: list(error.path))
        if errors:
            raise ValueMismatchError(
                [(".".join(str(part) for part in error.path), error.message) for error in errors]
            )
        return value

    return AfterValidator(check)


def _value_type(schema: dict[str, Any]) -> Any:
    return Annotated[Any, WithJsonSchema(copy.deepcopy(schema)), _checked_against(schema)]


def _is_array(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


class JsonSchema(ExtractionSchema):
    """A JSON Schema dict as an `ExtractionSchema`: its properties are the fields, and the
    data is a dict valid against it."""

    def __init__(self, schema: dict[str, Any]) -> None:
        """Check `schema` (see `check_json_schema`) and read its fields."""
        self.checked = check_json_schema(schema)
        """The schema as extracted: its `$ref`s inlined."""
        super().__init__(schema_name(schema), schema, _field_specs(self.checked))

    @cached_property
    def _whole(self) -> Draft202012Validator:
        return _validator(self.checked)

    def validated(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` when it is valid against the schema; else `SchemaMismatch` with each
        problem by key path (a required field absent: "not found in any document")."""
        found: list[tuple[str, str]] = []
        for error in sorted(self._whole.iter_errors(data), key=lambda e: list(e.path)):
            if error.validator == "required" and not error.path:
                # One error per absent name, each carrying the whole list: take each once.
                absent = [name for name in error.validator_value if name not in data]
                found.extend((name, _MISSING) for name in absent if (name, _MISSING) not in found)
                continue
            found.append((key_path(error.path), error.message))
        if found:
            raise SchemaMismatch(problems_by_path(found))
        return data
