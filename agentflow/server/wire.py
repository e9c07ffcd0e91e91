"""The JSON the server speaks, shaped as the reference server's (`llama-agents-server`), so
that its client (`llama-agents-client`'s `WorkflowClient`) and front ends work unchanged.

An event goes out as the envelope `{value, qualified_name, type, types}` and comes in as
`{type, value}` (or `qualified_name`, or a bare payload for a start event). A run goes out as
the handler JSON (`handler_json`). The reference client dumps an event's undeclared fields
under `"_data"`; `parse_event` unwraps them before validating.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from agentflow.events import Event, StartEvent, StopEvent
from agentflow.server.errors import ApiError

if TYPE_CHECKING:
    from agentflow.server.registry import ServedWorkflow
    from agentflow.server.runs import RunView

ENVELOPE_KEYS = frozenset({"value", "data", "type", "qualified_name", "types"})
"""The keys of an event envelope (`data` is the reference's older name of `value`)."""


def event_value(event: Event) -> dict[str, Any]:
    """The event's fields as JSON values; a value JSON cannot hold (an exception, an
    arbitrary object) is written as text, an exception as its type and message."""
    value: dict[str, Any] = event.model_dump(mode="json", fallback=_plain)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, BaseException):
        cls = type(value)
        return {
            "exception_type": f"{cls.__module__}.{cls.__qualname__}",
            "exception_message": str(value),
        }
    return str(value)


def envelope(event: Event, *, include_qualified_name: bool = True) -> dict[str, Any]:
    """The reference's `EventEnvelopeWithMetadata` of `event`: `types` lists its event
    parent classes, nearest first, up to (not including) `Event`, or null."""
    cls = type(event)
    parents = [
        base.__name__
        for base in cls.__mro__[1:]
        if isinstance(base, type) and issubclass(base, Event) and base is not Event
    ]
    return {
        "value": event_value(event),
        "qualified_name": f"{cls.__module__}.{cls.__name__}" if include_qualified_name else None,
        "type": cls.__name__,
        "types": parents or None,
    }


def is_terminal(event: Event) -> bool:
    """True for the event that ends a run's stream: a StopEvent, or a subclass (failure,
    timeout, cancel)."""
    return isinstance(event, StopEvent)


def handler_json(view: RunView) -> dict[str, Any]:
    """The reference's `HandlerData` of a run, keys in its order, plus `questions`: the
    envelopes of the InputRequiredEvents a waiting run has not had answered (clients of the
    reference ignore keys they do not know)."""
    return {
        "handler_id": view.run_id,
        "workflow_name": view.workflow_name,
        "run_id": view.run_id,
        "error": view.error,
        "result": None if view.result is None else envelope(view.result),
        "result_unreadable": view.result_unreadable,
        "status": view.status,
        "started_at": view.started_at.isoformat(),
        "updated_at": view.updated_at.isoformat(),
        "completed_at": view.updated_at.isoformat() if view.status != "running" else None,
        "questions": [envelope(question) for question in view.questions],
    }


def legacy_result(handler: dict[str, Any]) -> dict[str, Any]:
    """`GET /results/{id}`'s variant of the handler JSON: `result` is the StopEvent's
    `result` field (the whole value for a StopEvent subclass)."""
    result = handler["result"]
    if result is not None:
        value = result["value"]
        result = value.get("result") if result["type"] == "StopEvent" else value
    return {**handler, "result": result}


def parse_start_event(body: dict[str, Any], served: ServedWorkflow) -> StartEvent:
    """The start event a run request's body holds: `start_event` as an envelope or a bare
    payload (a JSON string of either too), else `kwargs` as the payload, else the default."""
    data = body.get("start_event")
    if data is None:
        data = body.get("kwargs")
    if data is None:
        data = {}
    data = _decoded(data, "start_event")
    start_type = served.start_event
    if _is_envelope(data):
        named = served.event_named(data.get("type"), data.get("qualified_name"))
        if data.get("type") == "StartEvent" or named is StartEvent:
            # The reference client names `StartEvent` when it is given no start event,
            # whatever the workflow's start class is.
            named = start_type
        if named is None or not issubclass(named, start_type):
            raise ApiError(
                400,
                f"start_event: {_named(data)} is not the start event of workflow "
                f"{served.name!r}; it starts with {start_type.__name__}",
            )
        payload = _payload(data, "start_event")
    else:
        named, payload = start_type, data
    event = _validated(named, payload, "start_event")
    assert isinstance(event, StartEvent)
    return event


def parse_sent_event(data: Any, served: ServedWorkflow) -> Event:
    """The event of a `POST /events/{id}` body's `event`: an envelope naming one of the
    workflow's own event classes (400 otherwise; nothing is imported by name), whose value
    is valid for that class (422 with the field errors otherwise)."""
    data = _decoded(data, "event")
    if not isinstance(data, dict) or not data:
        raise ApiError(400, "event: an event envelope {type, value} is required")
    if "type" not in data and "qualified_name" not in data:
        raise ApiError(400, "event: the envelope names no event class (give 'type')")
    named = served.event_named(data.get("type"), data.get("qualified_name"))
    if named is None:
        sendable = sorted(
            name
            for name, event_type in served.events.items()
            if not issubclass(event_type, (StartEvent, StopEvent))
        )
        raise ApiError(
            400,
            f"event: {_named(data)} is not an event of workflow {served.name!r}; "
            f"it takes {', '.join(sendable)}",
        )
    if issubclass(named, (StartEvent, StopEvent)):
        raise ApiError(400, f"event: a {named.__name__} cannot be sent into a running run")
    return _validated(named, _payload(data, "event"), "event")


def _decoded(data: Any, field: str) -> Any:
    if isinstance(data, str):
        try:
            return json.loads(data)
        except json.JSONDecodeError as error:
            raise ApiError(400, f"{field}: a JSON string that is not JSON: {error}") from None
    return data


def _is_envelope(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and ("type" in data or "qualified_name" in data)
        and data.keys() <= ENVELOPE_KEYS
    )


def _named(data: dict[str, Any]) -> str:
    return repr(data.get("type") if data.get("type") is not None else data.get("qualified_name"))


def _payload(data: dict[str, Any], field: str) -> Any:
    value = data.get("value", data.get("data"))
    value = {} if value is None else _decoded(value, f"{field}.value")
    return value


def _validated(event_type: type[Event], payload: Any, field: str) -> Event:
    if not isinstance(payload, dict):
        raise ApiError(
            422, f"{field}: the value of a {event_type.__name__} must be an object of its fields"
        )
    nested = payload.get("_data")
    if isinstance(nested, dict):
        # How the reference dumps fields an event does not declare.
        payload = {**{k: v for k, v in payload.items() if k != "_data"}, **nested}
    try:
        return event_type.model_validate(payload)
    except ValidationError as error:
        errors = [
            {
                "loc": [field, *(str(part) for part in item["loc"])],
                "msg": item["msg"],
                "type": item["type"],
            }
            for item in error.errors()
        ]
        where = ", ".join(".".join(item["loc"]) for item in errors)
        raise ApiError(422, f"{field}: invalid {event_type.__name__} ({where})", errors) from None
