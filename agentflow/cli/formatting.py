"""How `agentflow run` shows events and results, in its readable and JSON forms.

Readable (the default): an event is one line, its class name and its fields as
`key=value`, each value compact JSON cut after `FIELD_LIMIT` characters. An event with a
`delta: str` field is streamed text (LLM workflows stream tokens so, often with the whole
text so far beside it): only the delta is shown, as running text. JSON (`--json`): one
object per line, `{"event": name, "data": fields}` with every field in full, and
`{"result": ...}` last.

This module knows nothing of LLMs: text is recognised by the field's name and type alone.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from agentflow.cli.errors import one_line

if TYPE_CHECKING:
    from agentflow.events import Event

FIELD_LIMIT = 100
"""Characters of a field's JSON shown in a readable event line before it is cut."""


def streamed_text(event: Event) -> str | None:
    """The new text `event` streams (its `delta` field, when that is a string), else None."""
    delta = event.get("delta")
    return delta if isinstance(delta, str) else None


def format_event(event: Event) -> str:
    """One readable line for `event`: its type name, then `key=value` per field, each value
    as compact JSON, cut after `FIELD_LIMIT` characters with the count of the rest."""
    fields = event.to_dict()
    if not fields:
        return type(event).__name__
    shown = " ".join(f"{key}={shorten(compact_json(value))}" for key, value in fields.items())
    return f"{type(event).__name__} {shown}"


def event_json(event: Event) -> str:
    """`event` as one JSON object: `{"event": type name, "data": every field}`."""
    return compact_json({"event": type(event).__name__, "data": event.to_dict()})


def result_json(result: Any) -> str:
    """The run's result as one JSON object, `{"result": ...}`."""
    return compact_json({"result": result})


def result_text(result: Any) -> str:
    """The run's result as text: a string as it is; an object whose class defines `__str__`
    (an agent's output, a report) as that; another event (a StopEvent subclass with fields
    of its own) as its readable line; anything else as JSON."""
    from pydantic import BaseModel

    from agentflow.events import Event, StopEvent

    if isinstance(result, str):
        return result
    # StopEvent's own __str__ is its `result`, which such an event does not use.
    generic: tuple[object, ...] = (object.__str__, BaseModel.__str__, StopEvent.__str__)
    if type(result).__str__ not in generic:
        return str(result)
    if isinstance(result, Event):
        return format_event(result)
    return compact_json(result)


def compact_json(value: Any) -> str:
    """`value` as JSON without spaces; what JSON cannot hold is made to fit (models dumped,
    exceptions as `Type: message`, anything else as its repr)."""
    return json.dumps(value, default=_jsonable, ensure_ascii=False, separators=(",", ":"))


def shorten(text: str, limit: int = FIELD_LIMIT) -> str:
    """`text` cut after `limit` characters, with the count of the rest."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…(+{len(text) - limit} chars)"


def _jsonable(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        try:
            return value.model_dump(mode="json")
        except Exception:
            return repr(value)
    if isinstance(value, BaseException):
        return one_line(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return repr(value)
