"""OpenAI strict mode: rewrite a JSON schema to its rules, or say why it cannot be.

Strict mode (structured outputs for function calling) accepts a subset of JSON Schema:
every object lists all its properties as required and sets `additionalProperties: false`;
`default` is not supported, nor are some validation keywords (dropped here, still checked
by `FunctionTool`); optional values are expressed as a union with `null`
(pydantic already writes `Optional[X]` that way, and a parameter with any other default
becomes nullable, `null` meaning "the default"). Objects with free-form keys
(`dict[str, X]`), values with no type (`Any`) and tuples have no strict equivalent.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tools.errors import StrictSchemaError

_COMPOSITES = ("anyOf", "oneOf", "allOf")
# Keywords strict mode refuses (the request fails with "... is not permitted"). They are
# left out of the strict schema only: `FunctionTool` still validates the arguments against
# them, and an error output tells the model what was wrong.
UNSUPPORTED_KEYWORDS = (
    "minLength",
    "maxLength",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedItems",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
)
SUPPORTED_FORMATS = frozenset(
    ("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid")
)
"""String formats strict mode accepts; others (pydantic's "path", "uri", ...) are dropped."""


def to_strict_schema(schema: dict[str, Any], tool_name: str) -> dict[str, Any]:
    """A strict-mode copy of `schema` (the arguments of `tool_name`).

    Raises `StrictSchemaError` listing every parameter that cannot be strict and why.
    """
    strict = copy.deepcopy(schema)
    definitions: dict[str, Any] = strict.get("$defs", {})
    problems: list[str] = []
    _nullable_optional_parameters(strict)
    _make_strict(strict, "", definitions, problems)
    for def_name, definition in definitions.items():
        _make_strict(definition, def_name, definitions, problems)
    if problems:
        raise StrictSchemaError(
            f"tool '{tool_name}' cannot use OpenAI strict mode: " + "; ".join(problems)
        )
    return strict


def null_means_default(schema: dict[str, Any]) -> set[str]:
    """Parameters whose `null` in strict mode stands for "use the default": those with a
    default that do not accept null themselves."""
    required = set(schema.get("required", ()))
    return {
        name
        for name, prop in schema.get("properties", {}).items()
        if name not in required and "default" in prop and not _allows_null(prop)
    }


def _nullable_optional_parameters(schema: dict[str, Any]) -> None:
    # Strict mode makes every parameter required. A parameter with a default becomes
    # nullable instead, and `FunctionTool` reads `null` for it as "use the default".
    for name in null_means_default(schema):
        prop = schema["properties"][name]
        default = prop.pop("default")
        description = prop.pop("description", None)
        hint = f"null for the default ({json.dumps(default)})"
        schema["properties"][name] = {
            "anyOf": [prop, {"type": "null"}],
            "description": f"{description.rstrip('.')}; {hint}"
            if description
            else hint.capitalize(),
        }


def _allows_null(prop: dict[str, Any]) -> bool:
    if not any(key in prop for key in ("type", "$ref", "enum", "const", *_COMPOSITES)):
        return True  # no type at all (Any): null is a value like any other
    options = [prop, *prop.get("anyOf", ()), *prop.get("oneOf", ())]
    return any(option.get("type") == "null" for option in options)


def _make_strict(
    node: dict[str, Any], path: str, definitions: dict[str, Any], problems: list[str]
) -> None:
    where = f"'{path}'" if path else "the arguments"
    node.pop("default", None)
    for keyword in UNSUPPORTED_KEYWORDS:
        node.pop(keyword, None)
    if "format" in node and node["format"] not in SUPPORTED_FORMATS:
        del node["format"]
    ref = node.get("$ref")
    if ref is not None and len(node) > 1:
        # Strict mode wants a $ref on its own: inline the definition under its siblings
        # (pydantic puts `description` next to `$ref`).
        target = definitions.get(ref.rsplit("/", 1)[-1], {})
        del node["$ref"]
        for key, value in copy.deepcopy(target).items():
            node.setdefault(key, value)
    for keyword in _COMPOSITES:
        for option in node.get(keyword, ()):
            _make_strict(option, path, definitions, problems)
    if "prefixItems" in node:
        problems.append(f"{where} is a tuple; strict mode has no fixed-length arrays (use a list)")
    if "items" in node:
        _make_strict(node["items"], f"{path}[]", definitions, problems)
    if not any(key in node for key in ("type", "$ref", "enum", "const", *_COMPOSITES)):
        problems.append(f"{where} has no type (Any or no annotation); annotate it")
        return
    if node.get("type") != "object":
        return
    properties: dict[str, Any] | None = node.get("properties")
    extra = node.get("additionalProperties")
    if extra not in (None, False) or (properties is None and extra is None):
        problems.append(
            f"{where} is an object with free-form keys (dict); strict mode needs fixed "
            "properties (use a pydantic model)"
        )
        return
    node["additionalProperties"] = False
    node["required"] = list(properties or {})
    for prop_name, prop in (properties or {}).items():
        _make_strict(prop, f"{path}.{prop_name}" if path else prop_name, definitions, problems)
