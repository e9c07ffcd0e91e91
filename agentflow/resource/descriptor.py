"""What every resource descriptor (`Resource`, `ResourceConfig`) tells the resolver: its
name, whether it is cached, what it depends on, and how to make it from its arguments.

Dependencies are read once per descriptor; before a descriptor is first made, its whole
dependency graph is checked once for cycles (`prepare`), so that a cycle is an error naming
it rather than a run waiting on itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from typing import Annotated, Any, NamedTuple, get_origin

from agentflow.errors import ResourceCycleError


class Dependency(NamedTuple):
    """A factory parameter that receives a resource."""

    parameter: str
    """The factory's parameter name."""
    resource: ResourceDescriptor
    """What it receives."""


class ResourceDescriptor(ABC):
    """The marker in `Annotated[T, ...]` that makes a parameter an injected resource."""

    cache: bool
    """True: made once and kept (per workflow, or per run for a run's resource)."""

    def __init__(self) -> None:
        self._dependencies: tuple[Dependency, ...] | None = None
        self._per_run: bool | None = None  # None until `prepare` checked the graph

    @property
    @abstractmethod
    def name(self) -> str:
        """Its name in messages and in `ResourceManager.set/get_all`."""

    @property
    def key(self) -> Hashable:
        """What its value is cached under: two descriptors with one key are one resource.
        Its name unless a subclass says otherwise."""
        return self.name

    @property
    def context_param(self) -> str | None:
        """The parameter receiving the run's Context, for factories that take one."""
        return None

    def dependencies(self) -> tuple[Dependency, ...]:
        """The resources it needs made first, read once."""
        if self._dependencies is None:
            self._dependencies = self.read_dependencies()
        return self._dependencies

    def read_dependencies(self) -> tuple[Dependency, ...]:
        """Read its dependencies; none unless a subclass says otherwise."""
        return ()

    def bind_type(self, annotated: Any, where: str) -> None:
        """Told the `T` of the `Annotated[T, ...]` it marks, at `where` (for messages);
        only a config needs it (its model)."""
        return None

    @property
    def per_run(self) -> bool:
        """True when its value belongs to one run: it, or a resource it needs, takes the
        run's Context. Valid once `prepare` ran."""
        return bool(self._per_run)

    @property
    def prepared(self) -> bool:
        """True once `prepare` checked its dependency graph."""
        return self._per_run is not None

    @abstractmethod
    async def make(self, arguments: dict[str, Any]) -> Any:
        """Make the value from its dependencies' values (and the Context), by parameter."""


def prepare(resource: ResourceDescriptor) -> None:
    """Check `resource`'s dependency graph for cycles and mark which parts are per run;
    raises `ResourceCycleError` naming the cycle. Done once per descriptor."""
    _prepare(resource, [])


def _prepare(resource: ResourceDescriptor, path: list[tuple[ResourceDescriptor, str]]) -> bool:
    for index, (earlier, _) in enumerate(path):
        if earlier.key == resource.key:
            raise ResourceCycleError(_cycle_message(path[index:], resource))
    if resource._per_run is not None:
        return resource._per_run
    per_run = resource.context_param is not None
    for parameter, dependency in resource.dependencies():
        path.append((resource, parameter))
        try:
            per_run = _prepare(dependency, path) or per_run
        finally:
            path.pop()
    resource._per_run = per_run
    return per_run


def _cycle_message(cycle: list[tuple[ResourceDescriptor, str]], back: ResourceDescriptor) -> str:
    chain = " -> ".join([*(step.name for step, _ in cycle), back.name])
    needs = ", ".join(f"{step.name}'s parameter '{parameter}'" for step, parameter in cycle)
    return (
        f"Circular resource dependency detected: {chain} (through {needs}); a factory "
        "cannot need, directly or not, the resource it makes"
    )


def resource_of(annotation: Any) -> ResourceDescriptor | None:
    """The descriptor in `Annotated[T, descriptor]`, or None for any other annotation."""
    if get_origin(annotation) is not Annotated:
        return None
    for metadata in annotation.__metadata__:
        if isinstance(metadata, ResourceDescriptor):
            return metadata
    return None
