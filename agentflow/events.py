"""The events steps exchange, and the ones that start and end a run.

An event is a pydantic model that also takes fields it does not declare
(`StartEvent(input_msg="hi").input_msg`) and reads like a dict (`ev["input_msg"]`,
`ev.get("missing", 0)`). The base class declares no private attributes on purpose:
pydantic initialises private attributes in Python, which would triple the cost of
constructing every event on the hot path. Subclasses may still declare them and set them
through the constructor.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, ItemsView, KeysView, ValuesView
from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)


class Event(BaseModel):
    """Base class of every event; extra keyword arguments become fields."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True, defer_build=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.__private_attributes__ and "__init__" not in cls.__dict__:
            parent_init = super(cls, cls).__init__
            cls.__init__ = _accepting_private_attributes(parent_init)  # type: ignore[method-assign]

    def _all_fields(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in type(self).model_fields}
        if self.__pydantic_extra__:
            values.update(self.__pydantic_extra__)
        return values

    def __getitem__(self, key: str) -> Any:
        found, value = self._lookup(key)
        if not found:
            raise KeyError(key)
        return value

    def _lookup(self, key: str) -> tuple[bool, Any]:
        # Fields only: a method of the class (`items`, `keys`) is never a key.
        if key in type(self).model_fields:
            return True, getattr(self, key)
        extra = self.__pydantic_extra__
        if extra is not None and key in extra:
            return True, extra[key]
        return False, None

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key)[0]

    def get(self, key: str, default: Any = None) -> Any:
        """The field `key`, declared or extra, or `default` when the event has none."""
        found, value = self._lookup(key)
        return value if found else default

    def keys(self) -> KeysView[str]:
        """Names of all fields, declared ones first, then extra ones."""
        return self._all_fields().keys()

    def values(self) -> ValuesView[Any]:
        """Values of all fields, in the order of `keys()`."""
        return self._all_fields().values()

    def items(self) -> ItemsView[str, Any]:
        """`(name, value)` pairs of all fields, in the order of `keys()`."""
        return self._all_fields().items()

    def to_dict(self) -> dict[str, Any]:
        """All fields, declared and extra, as a plain dict (values are not copied)."""
        return self._all_fields()


def _accepting_private_attributes(parent_init: Callable[..., None]) -> Callable[..., None]:
    """Constructor for event classes with private attributes, so that `MyEvent(_secret=1)`
    works; everything else goes to the parent class's constructor."""

    def __init__(self: Event, /, *args: Any, **data: Any) -> None:
        private_names = type(self).__private_attributes__
        private = {name: data.pop(name) for name in list(data) if name in private_names}
        parent_init(self, *args, **data)
        for name, value in private.items():
            setattr(self, name, value)

    return __init__


class StartEvent(Event):
    """The event a run starts with; `workflow.run(**kwargs)` puts the kwargs on it."""


class StopEvent(Event):
    """Ends a run. Awaiting the handler gives `result`, or the event itself for a subclass
    that declares fields of its own."""

    result: Any = None

    def __init__(self, result: Any = None, /, **data: Any) -> None:
        # Positional `StopEvent("done")` is accepted, as in LlamaIndex Workflows.
        if result is not None:
            data["result"] = result
        super().__init__(**data)

    def __str__(self) -> str:
        return str(self.result)

    def __repr__(self) -> str:
        # As LlamaIndex Workflows shows it: extra fields, declared ones, then a result
        # that is set; `StopEvent()` for an empty one.
        declared = {name: getattr(self, name) for name in type(self).model_fields}
        shown = {**(self.__pydantic_extra__ or {}), **self._shape(declared)}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    @model_serializer(mode="wrap")
    def _serialize(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        # The result goes last and only when set, so that `model_dump()` and its JSON
        # read as LlamaIndex Workflows' do (`{}` for `StopEvent()`); extra fields stay,
        # and a dump that names the fields it wants (`include=`) gets them all.
        data: dict[str, Any] = handler(self)
        return data if info.include is not None else self._shape(data)

    def _shape(self, data: dict[str, Any]) -> dict[str, Any]:
        if "result" in data:
            result = data.pop("result")
            if self.result is not None:
                data["result"] = result
        return data


class InputRequiredEvent(Event):
    """A step needs a human: it appears on the stream, typically with a `prefix` prompt."""


class HumanResponseEvent(Event):
    """A human's answer, sent from outside with `handler.ctx.send_event(...)`."""


class WorkflowFailedEvent(StopEvent):
    """Last event on the stream of a run that a step failed."""

    step_name: str
    exception: BaseException
    attempts: int | None = None
    """How many attempts the step made before giving up; None for a failure that is not
    a step's (the run's journal could not be written)."""
    elapsed_seconds: float | None = None
    """Seconds from the step's first failure to giving up (0 without a retry policy);
    None when `attempts` is."""


class WorkflowTimedOutEvent(StopEvent):
    """Last event on the stream of a run that ran past the workflow's timeout."""

    timeout: float
    active_steps: list[str]


class WorkflowCancelledEvent(StopEvent):
    """Last event on the stream of a run cancelled through `handler.cancel_run()`."""


class StepFailedEvent(Event):
    """Sent to a `@catch_error` step when a step's attempts ran out; the handler may
    recover the run by returning an event, or give up by raising."""

    step_name: str
    """The step that failed."""
    input_event: Event
    """The event the failing step was handling."""
    exception: BaseException
    """The last attempt's exception."""
    attempts: int
    """How many attempts were made."""
    elapsed_seconds: float
    """Seconds from the first failure to giving up."""
    failed_at: datetime
    """When the step gave up (UTC)."""


class InternalDispatchEvent(Event):
    """Base of the events that show the engine's own work on the stream (`StepStateChanged`).
    They are made only for a stream that asks for them with
    `handler.stream_events(expose_internal=True)` (or `ctx.stream_events()`), so a run
    whose stream does not ask does no work for them."""


class StepState(enum.Enum):
    """Where one execution of a step stands, in `StepStateChanged`."""

    PREPARING = "preparing"
    """Waiting for a free worker of its step (LlamaIndex Workflows reports it; agentflow
    does not, as noticing it would cost every queued event a check)."""
    RUNNING = "running"
    """Running on a worker."""
    NOT_RUNNING = "not_running"
    """Returned or raised."""


class StepStateChanged(InternalDispatchEvent):
    """A step execution started (`RUNNING`) or ended (`NOT_RUNNING`)."""

    name: str
    """The step."""
    step_state: StepState
    """Started or ended."""
    worker_id: str
    """The worker task running the execution."""
    input_event_name: str
    """The type of the event the execution handles (its class name when it starts, its
    `str(type)` when it ends, as the reference writes them)."""
    output_event_name: str | None = None
    """`str(type)` of what the step returned, once it ended (None when it raised)."""
