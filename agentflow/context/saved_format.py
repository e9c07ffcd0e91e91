"""The shape of what `Context.to_dict` writes, checked before anything in it is trusted.

A saved context is read from files and databases that other processes wrote, so
`Context.from_dict` first checks its shape against the pydantic models here: every required
key present, every value of its JSON type (no coercion: `"1"` is not a counter, `true` is
not a position), counters not negative, no unknown keys. A list or dict left out is empty:
format version 2 writes none that is empty (version 1 wrote them all). Each problem is
reported as a `ContextSerdeError` naming its key path (`run.stream.position`). What the
strings hold (state and events, in the serializer's format) is checked when they are
decoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentflow.errors import ContextSerdeError

Count = Annotated[int, Field(ge=0)]
"""A counter or a position: an int, never negative."""


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class SavedQueued(_Shape):
    """An event waiting for a free worker of its step."""

    step: str
    event: str
    """The event, as the serializer wrote it."""


class SavedRunning(_Shape):
    """A step execution under way when the run was saved."""

    step: str
    event: str
    """The event it was handling, as the serializer wrote it."""
    execution: Count | None
    """Its execution number, once it had one (its first wait gives it one)."""
    answered: dict[str, str] = {}
    """Answers its waits had received, by waiter_id."""
    collected: list[list[str] | None] = []
    """What each of its `collect_events` calls had returned."""


class SavedWaiterEntry(_Shape):
    """A `wait_for_event` that was waiting, as contexts saved before waiters were dropped
    wrote it: read, so that those saves still load, and ignored (the waiting step
    registers its waiter again when it re-runs). Saves now write none."""

    waiter_id: str
    event_type: str
    """`module:qualname` of the awaited event class."""
    requirements: str
    """The fields the awaited event must have, as the serializer wrote them."""


class SavedStream(_Shape):
    """The stream's position and what its consumer had not taken yet."""

    position: Count
    unconsumed: list[str] = []
    open_questions: list[Count] = []


class SavedRun(_Shape):
    """A run under way (or ended unfinished); see `agentflow.runtime.snapshot`."""

    queued: list[SavedQueued] = []
    in_progress: list[SavedRunning] = []
    unclaimed: list[str] = []
    collected: dict[str, list[str]] = {}
    waiters: list[SavedWaiterEntry] = []
    recoveries: dict[str, Count] = {}
    next_execution: Count
    stream: SavedStream


class SavedContext(_Shape):
    """Everything `Context.to_dict` writes."""

    version: int
    workflow: str
    """The `__qualname__` of the workflow class that saved it."""
    state: str
    """The state, as the serializer wrote it."""
    run: SavedRun | None


def read_saved_context(data: object) -> SavedContext:
    """`data` as a `SavedContext`, or a ContextSerdeError naming each key path at fault."""
    if not isinstance(data, dict):
        raise ContextSerdeError(
            f"a saved context is a dict, as Context.to_dict returns; this saved context is a "
            f"{type(data).__name__}"
        )
    try:
        return SavedContext.model_validate(data)
    except ValidationError as error:
        raise ContextSerdeError(
            f"the saved context is malformed: {describe_problems(error)}"
        ) from None


def describe_problems(error: ValidationError) -> str:
    """Each problem pydantic found, as `key.path: what is wrong (got ...)`, joined by "; "."""
    problems = []
    for problem in error.errors(include_url=False):
        where = key_path(problem["loc"]) or "the value"
        found = "" if problem["type"] == "missing" else f" (got {_shorten(problem['input'])})"
        problems.append(f"{where}: {problem['msg']}{found}")
    return "; ".join(problems)


def key_path(parts: Iterable[int | str]) -> str:
    """`("run", "queued", 0, "event")` as `run.queued[0].event`."""
    path = ""
    for part in parts:
        path = child_path(path, part)
    return path


def child_path(path: str, part: int | str) -> str:
    """The key path of `part` inside `path`: `run.queued` and 0 give `run.queued[0]`;
    keys that are not names are quoted: `answered['step:0:1']`."""
    if isinstance(part, int):
        return f"{path}[{part}]"
    if part.isidentifier():
        return f"{path}.{part}" if path else part
    return f"{path}[{part!r}]"


def _shorten(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
