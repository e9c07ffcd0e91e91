"""The events a step waits for inside its body with `ctx.wait_for_event(...)`, read from
its source code.

A step's signature says what it accepts and returns; a wait is a call in its body, so the
only place to see it before a run is the source. Each `wait_for_event(EventClass, ...)`
call whose event class (and `waiter_event=SomeEvent(...)`, if given) is written as a name
or a dotted name found in the step's globals or closure is reported. A class held in a
variable, or a step whose source Python cannot find (code typed into a REPL or run from a
string), gives no wait: this is a drawing aid, never a check.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentflow.events import Event


@dataclass(frozen=True, slots=True)
class Wait:
    """One `wait_for_event` call in a step's body."""

    event_type: type[Event]
    """The event class the step waits for."""
    waiter_event_type: type[Event] | None
    """The class of the `waiter_event` written to the stream as the wait begins, if any."""


def waits_in(function: Callable[..., Any]) -> list[Wait]:
    """The `wait_for_event` calls in `function`'s source whose classes can be named, in
    source order, each once."""
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        # No source to read (see the module docstring), or a body that cannot be parsed
        # once cut out of its file (a multi-line string less indented than the def).
        return []
    names = _visible_names(function)
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "wait_for_event"
    ]
    found: list[Wait] = []
    for call in sorted(calls, key=lambda call: (call.lineno, call.col_offset)):
        event_type = _event_class(_argument(call, 0, "event_type"), names)
        if event_type is None:
            continue
        waiter = _argument(call, 1, "waiter_event")
        waiter_type = _event_class(waiter.func, names) if isinstance(waiter, ast.Call) else None
        wait = Wait(event_type, waiter_type)
        if wait not in found:
            found.append(wait)
    return found


def _visible_names(function: Callable[..., Any]) -> dict[str, Any]:
    """What a name in `function`'s body may refer to: its closure, then its globals."""
    closure = inspect.getclosurevars(function)
    return {**closure.builtins, **getattr(function, "__globals__", {}), **closure.nonlocals}


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((kw.value for kw in call.keywords if kw.arg == keyword), None)


def _event_class(expression: ast.expr | None, names: dict[str, Any]) -> type[Event] | None:
    """The Event subclass `expression` names (`Answer`, `events.Answer`), else None."""
    value = None if expression is None else _value(expression, names)
    return value if isinstance(value, type) and issubclass(value, Event) else None


def _value(expression: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(expression, ast.Name):
        return names.get(expression.id)
    if isinstance(expression, ast.Attribute):
        return getattr(_value(expression.value, names), expression.attr, None)
    return None
