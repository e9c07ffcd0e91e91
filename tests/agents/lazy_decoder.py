"""A server whose decoder takes every free `null`, as small models under a JSON grammar do.

A server that turns the `response_format` schema into a grammar (llama.cpp, Ollama, vLLM)
lets the model write only what the schema allows. Where the schema offers `null` in place
of an object or a list, one token skips the whole structure before the model has written
any of it, and a small model takes that way out (issue 13: a 1.5B model answered `null` for
every extraction field that was "an object or null", and filled every one once the object
was always there with only its `value` nullable).

`LazyDecoder` wraps an honest stand-in model (a respx side effect) and rewrites each of its
JSON replies as such a decoder would: `null` wherever the request's schema allows `null`
instead of an object or a list, the honest reply everywhere else. `null_branches` lists
those places in a schema, for tests that check what a schema offers without a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from llm_wire import completion, text_reply

Schema = dict[str, Any]


def null_branches(schema: Schema) -> list[str]:
    """The paths (`$.field.value`, `$.items[]`) where `schema` lets a decoder write `null`
    in place of an object or a list."""
    found: list[tuple[str, bool]] = []
    _walk(schema, schema.get("$defs", {}), "$", found)
    return [path for path, skips_a_structure in found if skips_a_structure]


def nullable_paths(schema: Schema) -> list[str]:
    """Every path where `schema` allows `null`, in place of anything."""
    found: list[tuple[str, bool]] = []
    _walk(schema, schema.get("$defs", {}), "$", found)
    return [path for path, _ in found]


def lazy_reply(schema: Schema, reply: Any) -> Any:
    """`reply` as a decoder that takes every free `null` in `schema` would write it."""
    return _lazy(schema, schema.get("$defs", {}), reply)


class LazyDecoder:
    """A respx side effect: `honest`'s answers to structured requests (a JSON body or an
    event stream), rewritten by `lazy_reply` against each request's `response_format`
    schema and sent the way the request asked. Answers to other requests pass unchanged."""

    def __init__(self, honest: Callable[[httpx.Request], httpx.Response]) -> None:
        self.honest = honest
        self.rewritten = 0
        """How many replies had a `null` put in place of what the honest model wrote."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.honest(request)
        body = json.loads(request.content)
        response_format = body.get("response_format") or {}
        if response_format.get("type") != "json_schema":
            return response
        content = _content(response)
        if not content:  # a reply made only of tool calls has no JSON to rewrite
            return response
        honest = json.loads(content)
        lazy = lazy_reply(response_format["json_schema"]["schema"], honest)
        self.rewritten += lazy != honest
        if body.get("stream"):
            return text_reply(json.dumps(lazy))
        return httpx.Response(200, json=completion(json.dumps(lazy)))


def _content(response: httpx.Response) -> str:
    """The reply's text, from a chat completion or the deltas of its event stream; "" for
    none."""
    if "event-stream" not in response.headers.get("content-type", ""):
        return str(response.json()["choices"][0]["message"]["content"] or "")
    events = [line.removeprefix("data: ") for line in response.text.splitlines()]
    chunks = [json.loads(data) for data in events if data.startswith("{")]
    return "".join(
        choice["delta"].get("content") or "" for item in chunks for choice in item["choices"]
    )


def _resolve(node: Schema, definitions: Schema) -> Schema:
    ref = node.get("$ref")
    if isinstance(ref, str):
        return _resolve(definitions[ref.rsplit("/", 1)[-1]], definitions)
    return node


def _options(node: Schema, definitions: Schema) -> list[Schema]:
    """The alternatives a value may take at `node` (one, when it is not a union)."""
    node = _resolve(node, definitions)
    members = node.get("anyOf") or node.get("oneOf")
    if members:
        return [option for member in members for option in _options(member, definitions)]
    kind = node.get("type")
    if isinstance(kind, list):
        return [{**node, "type": one} for one in kind]
    return [node]


def _is_structure(option: Schema) -> bool:
    return option.get("type") in ("object", "array") or "properties" in option or "items" in option


def _allows_null(options: list[Schema]) -> bool:
    return any(option.get("type") == "null" for option in options)


def _skippable(options: list[Schema]) -> bool:
    """Whether `null` is offered in place of an object or a list."""
    return _allows_null(options) and any(_is_structure(option) for option in options)


def _walk(node: Schema, definitions: Schema, path: str, found: list[tuple[str, bool]]) -> None:
    options = _options(node, definitions)
    if _allows_null(options):
        found.append((path, _skippable(options)))
    for option in options:
        for name, child in option.get("properties", {}).items():
            _walk(child, definitions, f"{path}.{name}", found)
        if isinstance(option.get("items"), dict):
            _walk(option["items"], definitions, f"{path}[]", found)


def _lazy(node: Schema, definitions: Schema, value: Any) -> Any:
    options = _options(node, definitions)
    if _skippable(options):
        return None
    if isinstance(value, dict):
        shape = next((option for option in options if "properties" in option), None)
        if shape is not None:
            properties = shape["properties"]
            return {
                key: _lazy(properties[key], definitions, item) if key in properties else item
                for key, item in value.items()
            }
    if isinstance(value, list):
        shape = next((option for option in options if isinstance(option.get("items"), dict)), None)
        if shape is not None:
            return [_lazy(shape["items"], definitions, item) for item in value]
    return value
