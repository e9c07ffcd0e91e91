"""Where resource values live, and how a step execution's resources are resolved.

    workflow ── ResourceManager ── cached values, for every run of the workflow
    run ─────── RunResources ───── cached values of resources that take the run's Context
    step call ─ Resolution ─────── uncached values, shared within that one execution

Each level keeps values by the descriptor's `key` (for a `Resource`, its factory object),
not by its name: two lambdas, or two closures made by one function, share a qualified name
but are different resources. Names serve only the reference's API (`ResourceManager.set`,
`get_all`).

Concurrent first requests for a cached resource share one factory call; a factory that
fails caches nothing, so the next request calls it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any

from agentflow.errors import ResourceError
from agentflow.resource.descriptor import ResourceDescriptor, prepare

if TYPE_CHECKING:
    from agentflow.context import Context


class _Kept:
    """Cached values by key, and the factory calls under way for keys not yet made."""

    def __init__(self) -> None:
        self.values: dict[Hashable, Any] = {}
        self._making: dict[Hashable, asyncio.Future[Any]] = {}

    async def get(self, key: Hashable, make: Callable[[], Awaitable[Any]]) -> Any:
        while key not in self.values:
            making = self._making.get(key)
            if making is None:
                return await self._make(key, make)
            try:
                # Shielded: a waiter that is cancelled must not cancel the shared call.
                return await asyncio.shield(making)
            except asyncio.CancelledError:
                if not making.cancelled():
                    raise  # this waiter was cancelled
                # The step making it was cancelled (its run ended), not this one: the
                # value is still wanted, so make it here.
        return self.values[key]

    async def _make(self, key: Hashable, make: Callable[[], Awaitable[Any]]) -> Any:
        making = self._making[key] = asyncio.get_running_loop().create_future()
        try:
            value = await make()
        except asyncio.CancelledError:
            making.cancel()
            raise
        except BaseException as error:
            making.set_exception(error)
            making.exception()  # the concurrent waiters, if any, raise it themselves
            raise
        else:
            self.values[key] = value
            making.set_result(value)
            return value
        finally:
            del self._making[key]


class ResourceManager:
    """The cached resources of the workflows it is given to (`Workflow(resource_manager=...)`;
    each workflow makes its own otherwise): a value is made on first use and reused by
    every later step and run, until the manager goes."""

    def __init__(self) -> None:
        self.resources: dict[str, Any] = {}
        """The values made (or `set`) so far, by resource name (a factory's qualified
        name, or a config's `file.path_selector`); of factories sharing a name, the value
        made last."""
        self._kept = _Kept()
        self._set: dict[str, Any] = {}

    async def set(self, name: str, val: Any) -> None:
        """Use `val` for every cached resource named `name` (e.g. a fake, in tests): their
        factories will not be called."""
        self._set[name] = val
        self.resources[name] = val

    async def get(self, resource: ResourceDescriptor) -> Any:
        """The value of `resource`, made now (with what it depends on) unless cached."""
        return await Resolution(self, None, None).value(resource)

    def get_all(self) -> dict[str, Any]:
        """Every value made or set so far, by name."""
        return self.resources


class RunResources:
    """One run's cached values of resources that take its Context."""

    def __init__(self) -> None:
        self.kept = _Kept()


class Resolver:
    """What a step's resources are resolved against in one run: the workflow's manager,
    the run's own resources, and its Context. Made once per step and run."""

    __slots__ = ("ctx", "manager", "run")

    def __init__(
        self, manager: ResourceManager, run: RunResources | None, ctx: Context[Any] | None
    ) -> None:
        self.manager = manager
        self.run = run
        self.ctx = ctx

    def resolution(self) -> Resolution:
        """A resolution for one step execution."""
        return Resolution(self.manager, self.run, self.ctx)


class Resolution:
    """Resolves the resources of one step execution (or one `ResourceManager.get`)."""

    __slots__ = ("_ctx", "_manager", "_run", "_uncached")

    def __init__(
        self, manager: ResourceManager, run: RunResources | None, ctx: Context[Any] | None
    ) -> None:
        self._manager = manager
        self._run = run
        self._ctx = ctx
        self._uncached: dict[Hashable, Any] = {}

    async def value(self, resource: ResourceDescriptor) -> Any:
        """`resource`'s value: kept, shared within this resolution, or made now."""
        if not resource.prepared:
            prepare(resource)
        if not resource.cache:
            if resource.key not in self._uncached:
                self._uncached[resource.key] = await self._make(resource)
            return self._uncached[resource.key]
        if not resource.per_run:
            manager = self._manager
            if manager._set and resource.name in manager._set:
                return manager._set[resource.name]
            return await manager._kept.get(resource.key, lambda: self._keep(resource))
        if self._run is None:
            raise ResourceError(
                f"resource '{resource.name}' takes the run's Context (itself or through a "
                "resource it needs), so it can only be made for a step of a run"
            )
        return await self._run.kept.get(resource.key, lambda: self._make(resource))

    async def _keep(self, resource: ResourceDescriptor) -> Any:
        """Make a value the workflow's manager keeps, and list it under its name."""
        value = await self._make(resource)
        self._manager.resources[resource.name] = value
        return value

    async def _make(self, resource: ResourceDescriptor) -> Any:
        arguments = {
            parameter: await self.value(dependency)
            for parameter, dependency in resource.dependencies()
        }
        context_param = resource.context_param
        if context_param is not None:
            if self._ctx is None:
                raise ResourceError(
                    f"resource factory '{resource.name}' takes the run's Context, so it can "
                    "only be made for a step of a run"
                )
            arguments[context_param] = self._ctx
        return await resource.make(arguments)
