"""OpenAI strict mode: one rewriting of a JSON schema to its rules, for a tool's arguments
and for a structured output class alike, or a `StrictSchemaError` saying why it cannot be.

Strict mode accepts a subset of JSON Schema: every object lists all its properties as
required and sets `additionalProperties: false`, `$ref` stands alone, there are no defaults.
The SDK's own helper (`openai.lib._pydantic`, what `client.beta.chat.completions.parse` and
`openai.pydantic_function_tool` use) does that closing, requiring and `$ref` inlining; this
module prepares the schema for it, because the helper passes everything else through:

- validation keywords strict mode refuses (`minLength`, `uniqueItems`, ...) and string
  formats it does not know are left out: the reply is still validated against them (by
  pydantic, and by `FunctionTool` for a tool's arguments) and re-asked for when it fails;
- what strict mode cannot express at all, a tuple (`prefixItems`), an object with free-form
  keys (`dict[str, X]`: `additionalProperties` a schema) and a value with no type (`Any`),
  raises `StrictSchemaError` listing each with its keyword and path.

Where `null` is allowed differs by use, deliberately. A tool's parameter with a default
becomes nullable, `null` meaning "the default" (`tools.schema.null_means_default`). An output
class's field with a default becomes required and is never made nullable: a server that turns
the schema into a grammar lets a model write `null` wherever it may, and small models take
that way out; only the `Optional` fields the user declared take null.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from pydantic import BaseModel

from agents.llm.errors import StrictSchemaError, StrictSchemaProblem
from tools.schema import null_means_default

# Validation keywords strict mode refuses ("... is not permitted"); checked after the reply.
_DROPPED_KEYWORDS = (
    "default",
    "minLength",
    "maxLength",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "discriminator",
)
_SUPPORTED_FORMATS = frozenset(
    ("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid")
)
_INEXPRESSIBLE = {
    "prefixItems": "is a tuple; strict mode has no fixed-length arrays (use a list)",
    "patternProperties": "is an object with free-form keys; strict mode needs fixed "
    "properties (use a pydantic model)",
    "unevaluatedProperties": "sets unevaluatedProperties, which strict mode refuses",
    "unevaluatedItems": "sets unevaluatedItems, which strict mode refuses",
}
_FREE_FORM = (
    "is an object with free-form keys (dict); strict mode needs fixed properties (use a "
    "pydantic model)"
)
_UNTYPED = "has no type (Any or no annotation); annotate it"
_TYPED = ("type", "$ref", "enum", "const", "anyOf", "oneOf", "allOf")


def strict_parameters(schema: dict[str, Any], tool_name: str) -> dict[str, Any]:
    """A strict-mode copy of `schema`, the arguments of the tool `tool_name`: a parameter
    with a default is nullable, `null` standing for the default."""
    strict = copy.deepcopy(schema)
    _nullable_defaults(strict)
    return _strict(strict, f"tool '{tool_name}'")


def strict_json_schema(output_cls: type[BaseModel]) -> dict[str, Any]:
    """`output_cls`'s JSON schema in strict mode, for structured output."""
    return _strict(output_cls.model_json_schema(), f"output class '{output_cls.__name__}'")


def strict_schema(schema: dict[str, Any], subject: str) -> dict[str, Any]:
    """A strict-mode copy of a JSON schema written as a dict (an extraction schema given as
    JSON Schema rather than as a pydantic model); `subject` names it in the error."""
    return _strict(copy.deepcopy(schema), subject)


def response_format_for(output_cls: type[BaseModel]) -> dict[str, Any]:
    """The `response_format` parameter asking for `output_cls` as strict JSON."""
    return {
        "type": "json_schema",
        "json_schema": {
            # The name must match ^[a-zA-Z0-9_-]{1,64}$: a generic model is "Page[Item]".
            "name": re.sub(r"[^a-zA-Z0-9_-]", "_", output_cls.__name__)[:64] or "output",
            "schema": strict_json_schema(output_cls),
            "strict": True,
        },
    }


def _strict(schema: dict[str, Any], subject: str) -> dict[str, Any]:
    # Private to the SDK, but the SDK's own rules; imported here so that counting tokens
    # or building a tool schema without strict mode does not load the SDK.
    from openai.lib._pydantic import _ensure_strict_json_schema

    problems: list[StrictSchemaProblem] = []
    _prepare(schema, "", problems)
    for name, definition in schema.get("$defs", {}).items():
        _prepare(definition, name, problems)
    if problems:
        raise StrictSchemaError(subject, problems)
    return _ensure_strict_json_schema(schema, path=(), root=schema)


def _prepare(node: dict[str, Any], path: str, problems: list[StrictSchemaProblem]) -> None:
    """Leave out what strict mode refuses and the reply is checked for anyway, and note
    what it cannot express, in `node` and below (not into `$defs`: `_strict` walks them)."""
    for keyword in _DROPPED_KEYWORDS:
        node.pop(keyword, None)
    if "format" in node and node["format"] not in _SUPPORTED_FORMATS:
        del node["format"]
    if "oneOf" in node:  # strict mode knows anyOf; pydantic's oneOf branches are disjoint
        node["anyOf"] = node.pop("oneOf") + node.pop("anyOf", [])
    where = path or "the arguments"
    for keyword, reason in _INEXPRESSIBLE.items():
        if keyword in node:
            problems.append(StrictSchemaProblem(where, keyword, reason))
    extra = node.get("additionalProperties")
    if "properties" in node:
        node["additionalProperties"] = False  # known keys only; the SDK closes only "object"
    elif extra not in (None, False) or (node.get("type") == "object" and extra is None):
        problems.append(StrictSchemaProblem(where, "additionalProperties", _FREE_FORM))
    if not any(key in node for key in _TYPED):
        problems.append(StrictSchemaProblem(where, "type", _UNTYPED))
    for name, child in node.get("properties", {}).items():
        _prepare(child, f"{path}.{name}" if path else name, problems)
    if isinstance(node.get("items"), dict):
        _prepare(node["items"], f"{path}[]", problems)
    for keyword in ("anyOf", "allOf"):
        for option in node.get(keyword, ()):
            _prepare(option, path, problems)


def _nullable_defaults(schema: dict[str, Any]) -> None:
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
