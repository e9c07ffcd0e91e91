"""The OpenAPI document of a server, written from its route table: every route the app
serves appears, with the summary, parameters and answers its `RouteDoc` gives."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_PATH_PARAMETER = re.compile(r"{(\w+)}")


@dataclass(frozen=True, slots=True)
class RouteDoc:
    """What the OpenAPI document says of one route."""

    summary: str
    responses: dict[int, str]
    """Status code -> what it means."""
    query: dict[str, str] = field(default_factory=dict)
    """Query parameter -> what it does."""
    body: str | None = None
    """What the JSON request body holds, for routes that take one."""
    stream: bool = False
    """The 200 answer is a stream (SSE or NDJSON), not one JSON document."""
    media_type: str = "application/json"
    """What the answers hold, when not a stream."""


def openapi_document(
    routes: list[tuple[str, str, RouteDoc]], *, title: str, version: str
) -> dict[str, Any]:
    """An OpenAPI 3.1 document for `(method, path, doc)` routes."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path, doc in routes:
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PATH_PARAMETER.findall(path)
        ]
        parameters += [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": text,
                "schema": {"type": "string"},
            }
            for name, text in doc.query.items()
        ]
        words = re.sub(r"[^a-z0-9]+", "_", _PATH_PARAMETER.sub(r"\1", path).lower()).strip("_")
        operation: dict[str, Any] = {
            "summary": doc.summary,
            "operationId": f"{method.lower()}_{words or 'root'}",
            "parameters": parameters,
            "responses": {
                str(status): _response(status, text, doc) for status, text in doc.responses.items()
            },
        }
        if doc.body is not None:
            operation["requestBody"] = {
                "required": True,
                "description": doc.body,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": paths,
    }


def _response(status: int, text: str, doc: RouteDoc) -> dict[str, Any]:
    if status == 204:
        return {"description": text}
    if doc.stream and status == 200:
        content = {
            "text/event-stream": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        }
    elif doc.media_type == "application/json":
        content = {"application/json": {"schema": {"type": "object"}}}
    else:
        content = {doc.media_type: {"schema": {"type": "string"}}}
    return {"description": text, "content": content}
