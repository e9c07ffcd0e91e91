"""Where resource values live, and how a step execution's resources are resolved.

    workflow ── ResourceManager ── cached values, by name, for every run of the workflow
    run ─────── RunResources ───── cached values of resources that take the run's Context
    step call ─ Resolution ─────── uncached values, shared within that one execution

Concurrent first requests for a cached resource share one factory call; a factory that
fails caches nothing, so the next request calls it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agentflow.errors import ResourceError
from agentflow.resource.descriptor import ResourceDescriptor, prepare

if TYPE_CHECKING:
    from agentflow.context import Context


class _Kept:
    """Cached values by name, and the factory calls under way for names not yet made."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self._making: dict[str, asyncio.Future[Any]] = {}

    async def get(self, name: str, make: Callable[[], Awaitable[Any]]) -> Any:
        while name not in self.values:
            making = self._making.get(name)
            if making is None:
                return await self._make(name, make)
            try:
                # Shielded: a waiter that is cancelled must not cancel the shared call.
                return await asyncio.shield(making)
            except asyncio.CancelledError:
                if not making.cancelled():
                    raise  # this waiter was cancelled
                # The step making it was cancelled (its run ended), not this one: the
                # value is still wanted, so make it here.
        return self.values[name]

    async def _make(self, name: str, make: Callable[[], Awaitable[Any]]) -> Any:
        making = self._making[name] = asyncio.get_running_loop().create_future()
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
            self.values[name] = value
            making.set_result(value)
            return value
        finally:
            del self._making[name]


class ResourceManager:
    """The cached resources of the workflows it is given to (`Workflow(resource_manager=...)`;
    each workflow makes its own otherwise): a value is made on first use and reused by
    every later step and run, until the manager goes."""

    def __init__(self) -> None:
        self.resources: dict[str, Any] = {}
        """The values made (or `set`) so far, by resource name (a factory's qualified
        name, or a config's `file.path_selector`)."""
        self._kept = _Kept(self.resources)

    async def set(self, name: str, val: Any) -> None:
        """Use `val` for the resource named `name` (e.g. a fake, in tests): its factory
        will not be called."""
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
        self.kept = _Kept({})


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
        self._uncached: dict[str, Any] = {}

    async def value(self, resource: ResourceDescriptor) -> Any:
        """`resource`'s value: kept, shared within this resolution, or made now."""
        if not resource.prepared:
            prepare(resource)
        if not resource.cache:
            if resource.name not in self._uncached:
                self._uncached[resource.name] = await self._make(resource)
            return self._uncached[resource.name]
        if not resource.per_run:
            return await self._manager._kept.get(resource.name, lambda: self._make(resource))
        if self._run is None:
            raise ResourceError(
                f"resource '{resource.name}' takes the run's Context (itself or through a "
                "resource it needs), so it can only be made for a step of a run"
            )
        return await self._run.kept.get(resource.name, lambda: self._make(resource))

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
