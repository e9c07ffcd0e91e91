"""`Resource`: values a step receives by annotation, made by a factory.

    @step
    async def answer(self, ev: StartEvent,
                     llm: Annotated[OpenAI, Resource(make_llm)]) -> StopEvent: ...

With `cache=True` (the default) the factory runs once per run and every step of that run
shares the value; with `cache=False` each step execution gets a fresh one. A factory may be
sync or async, and may take the run's `Context` (a parameter annotated `Context`, or named
`ctx`).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from agentflow.runtime.port import StepContextBase

if TYPE_CHECKING:
    from agentflow.context import Context

T = TypeVar("T")


class Resource(Generic[T]):
    """Marks a step parameter as injected: `Annotated[T, Resource(factory)]`."""

    def __init__(self, factory: Callable[..., T], cache: bool = True) -> None:
        if not callable(factory):
            raise TypeError(f"Resource needs a callable factory, got {factory!r}")
        self.factory = factory
        self.cache = cache
        self._takes_context = _takes_context(factory)

    @property
    def name(self) -> str:
        """The factory's name, for messages."""
        return getattr(self.factory, "__qualname__", repr(self.factory))

    async def make(self, ctx: Context[Any]) -> T:
        """Run the factory once; awaits it when it is async."""
        value: Any = self.factory(ctx) if self._takes_context else self.factory()
        if inspect.isawaitable(value):
            value = await value
        return value  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Resource({self.name}, cache={self.cache})"


def _takes_context(factory: Callable[..., Any]) -> bool:
    try:
        parameters = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return False
    if not parameters:
        return False
    first = parameters[0]
    annotation = first.annotation
    return (
        first.name == "ctx"
        or _is_context_class(annotation)
        or _is_context_class(getattr(annotation, "__origin__", None))
        or (isinstance(annotation, str) and annotation.split("[")[0].endswith("Context"))
    )


def _is_context_class(annotation: object) -> bool:
    """True for `Context` itself, recognised as the class deriving from `StepContextBase`
    directly: `agentflow.runtime`, which uses resources, never imports the face."""
    return isinstance(annotation, type) and StepContextBase in annotation.__bases__


class ResourceCache:
    """One run's cached resources, by factory: `Resource(make_llm)` written in two steps
    is one resource. Concurrent first requests share one factory call."""

    def __init__(self) -> None:
        self._made: dict[Callable[..., Any], asyncio.Future[Any]] = {}

    async def get(self, resource: Resource[T], ctx: Context[Any]) -> T:
        """The resource's value for this run: cached, or made now."""
        if not resource.cache:
            return await resource.make(ctx)
        key = resource.factory
        made = self._made.get(key)
        if made is not None:
            # Shielded: a waiter that is cancelled must not cancel the shared value.
            return await asyncio.shield(made)
        made = self._made[key] = asyncio.get_running_loop().create_future()
        try:
            value = await resource.make(ctx)
        except asyncio.CancelledError:
            del self._made[key]
            made.cancel()
            raise
        except Exception as error:
            # Not cached: the next request tries the factory again.
            del self._made[key]
            made.set_exception(error)
            made.exception()  # the concurrent waiters, if any, raise it themselves
            raise
        made.set_result(value)
        return value
