"""How a step's function is called when a plain `functools.partial` does not do (see
`StepSpec.bind`): by keyword, with its resources resolved first, under its timeout. Each is
a closure made once per step and run, so an execution pays only for what its step uses.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from agentflow.errors import StepTimeoutError
from agentflow.events import Event

if TYPE_CHECKING:
    from agentflow.resource.manager import Resolver
    from agentflow.runtime.step_table import StepSpec


def call_by_keyword(
    function: Callable[..., Any],
    fixed: tuple[Any, ...],
    event_param: str,
    context_kwargs: dict[str, Any],
    is_async: bool,
) -> Callable[[Event], Awaitable[Any]]:
    # Loaded here, not at `import agentflow`: only sync steps use it.
    from agentflow.runtime.daemon_threads import run_in_daemon_thread

    async def by_keyword(event: Event) -> Any:
        kwargs = {event_param: event, **context_kwargs}
        if is_async:
            return await function(*fixed, **kwargs)
        return await run_in_daemon_thread(function, *fixed, **kwargs)

    return by_keyword


def call_with_resources(
    spec: StepSpec, fixed: tuple[Any, ...], context_kwargs: dict[str, Any], resolver: Resolver
) -> Callable[[Event], Awaitable[Any]]:
    """The call of a step taking resources: each execution resolves them first (its
    uncached ones shared within it), then calls the step by keyword."""
    from agentflow.runtime.daemon_threads import run_in_daemon_thread

    function, event_param, injected, is_async = (
        spec.function,
        spec.event_param,
        spec.resources,
        spec.is_async,
    )

    async def with_resources(event: Event) -> Any:
        kwargs = {event_param: event, **context_kwargs}
        resolution = resolver.resolution()
        for name, resource in injected:
            kwargs[name] = await resolution.value(resource)
        if is_async:
            return await function(*fixed, **kwargs)
        return await run_in_daemon_thread(function, *fixed, **kwargs)

    return with_resources


step_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "agentflow_step_deadline", default=None
)
"""Loop time by which the running step execution must end, when it has a timeout."""


def with_timeout(
    call: Callable[[Event], Awaitable[Any]], step_name: str, seconds: float
) -> Callable[[Event], Awaitable[Any]]:
    async def within_timeout(event: Event) -> Any:
        deadline = asyncio.get_running_loop().time() + seconds
        token = step_deadline.set(deadline)
        try:
            async with asyncio.timeout_at(deadline) as scope:
                return await call(event)
        except TimeoutError:
            if not scope.expired():
                raise  # the step's own TimeoutError, not ours
            raise StepTimeoutError(
                f"step '{step_name}' timed out after {seconds}s; raise its "
                f"@step(timeout=...) or give it a retry_policy"
            ) from None
        finally:
            step_deadline.reset(token)

    return within_timeout
