"""`Resource(factory)`: a value made by calling a factory, which may itself take resources.

A factory's parameters are read once, on first use: each `Annotated[T, Resource(...)]` or
`Annotated[Model, ResourceConfig(...)]` parameter is a dependency made first, and a
parameter annotated `Context` (or named `ctx`) receives the run's context. Any other
parameter needs a default: nothing else could be passed to it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable
from typing import Annotated, Any, Generic, TypeVar, get_args, get_origin, get_type_hints

from agentflow.errors import ResourceError
from agentflow.resource.descriptor import Dependency, ResourceDescriptor, resource_of
from agentflow.runtime.port import StepContextBase

T = TypeVar("T")


class Resource(ResourceDescriptor, Generic[T]):
    """Marks a step (or factory) parameter as injected: `Annotated[T, Resource(factory)]`.

    With `cache=True` (the default) the value is made once and kept by the workflow's
    `ResourceManager`, so later runs of the same workflow instance reuse it, as in
    LlamaIndex Workflows; a factory that takes the run's `Context` (or depends on one that
    does) is kept for the run instead, since its value is the run's. With `cache=False`
    each step execution gets a fresh value, shared by the parameters and factories of that
    one execution."""

    def __init__(self, factory: Callable[..., T], cache: bool = True) -> None:
        if not callable(factory):
            raise TypeError(f"Resource needs a callable factory, got {factory!r}")
        super().__init__()
        self.factory = factory
        self.cache = cache
        self._context_param: str | None = None
        self._key: Hashable = factory if isinstance(factory, Hashable) else self

    @property
    def name(self) -> str:
        """The factory's qualified name, as the reference names it (`ResourceManager.set`
        and `get_all` use it). Not the cache key: two lambdas, or two closures made by one
        function, share a name but are two resources."""
        return getattr(self.factory, "__qualname__", type(self.factory).__name__)

    @property
    def key(self) -> Hashable:
        """The factory itself (`Resource(make_db)` written in two steps is one resource),
        or this descriptor when the factory cannot be a dict key."""
        return self._key

    @property
    def context_param(self) -> str | None:
        """The factory's parameter that receives the run's Context, if it takes one."""
        self.dependencies()
        return self._context_param

    def read_dependencies(self) -> tuple[Dependency, ...]:
        try:
            parameters = inspect.signature(self.factory).parameters.values()
        except (TypeError, ValueError):  # a builtin without a signature takes nothing
            return ()
        hints = _type_hints(self.factory)
        found: list[Dependency] = []
        for parameter in parameters:
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            annotation = hints.get(parameter.name, parameter.annotation)
            dependency = resource_of(annotation)
            if dependency is not None:
                dependency.bind_type(get_args(annotation)[0], f"{self.name}({parameter.name})")
                found.append(Dependency(parameter.name, dependency))
            elif _is_context(parameter.name, annotation):
                self._context_param = parameter.name
            elif parameter.default is inspect.Parameter.empty:
                raise ResourceError(_unfillable(self.name, parameter.name, annotation))
        return tuple(found)

    async def make(self, arguments: dict[str, Any]) -> T:
        """Call the factory with its resolved arguments; await it when it is async."""
        value: Any = self.factory(**arguments)
        if inspect.isawaitable(value):
            value = await value
        return value  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Resource({self.name}, cache={self.cache})"


def _type_hints(factory: Callable[..., Any]) -> dict[str, Any]:
    """The factory's resolved annotations; for a class, its `__init__`'s. Empty when they
    cannot be resolved: the raw annotations are read instead, and a parameter that needed
    them is reported by name."""
    target: Any = getattr(factory, "__init__", factory) if isinstance(factory, type) else factory
    try:
        return get_type_hints(target, include_extras=True)
    except (NameError, TypeError, AttributeError):
        return {}


def _is_context(name: str, annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.split("[")[0].endswith("Context") or (
            name == "ctx" and "Resource" not in annotation
        )
    if annotation is inspect.Parameter.empty:
        return name == "ctx"
    origin = get_origin(annotation) or annotation
    # The context class is recognised by its base: the runtime never imports the face.
    return isinstance(origin, type) and StepContextBase in origin.__bases__


def _unfillable(factory: str, parameter: str, annotation: Any) -> str:
    if isinstance(annotation, str):
        why = f"its annotation {annotation!r} cannot be resolved here"
    elif get_origin(annotation) is Annotated:
        why = f"{annotation!r} holds no Resource or ResourceConfig"
    else:
        why = "it is neither Annotated[T, Resource(...)] nor the run's Context"
    return (
        f"resource factory '{factory}': parameter '{parameter}' cannot be given a value: "
        f"{why}, and it has no default"
    )
