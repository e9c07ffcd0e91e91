"""Checks of a workflow's resources before any run: `Workflow.validate()` loads every
`ResourceConfig` (also before a class's first run) and, when asked, makes every resource.

Each problem is one line naming the step, the parameter and, for a resource a factory
needs, the chain of factories leading to it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING

from agentflow.errors import ResourceError, WorkflowValidationError
from agentflow.resource.config import ResourceConfig
from agentflow.resource.descriptor import ResourceDescriptor, prepare
from agentflow.resource.manager import Resolution, ResourceManager

if TYPE_CHECKING:
    from agentflow.runtime.step_table import StepTable


def check_resource_configs(table: StepTable) -> None:
    """Load every `ResourceConfig` the steps use, directly or through a factory; raise a
    `WorkflowValidationError` listing each that fails."""
    problems: list[str] = []
    seen: set[Hashable] = set()
    for where, chain, resource in _each_resource(table, seen, problems):
        if isinstance(resource, ResourceConfig):
            try:
                resource.load()
            except (ResourceError, WorkflowValidationError, OSError) as error:
                problems.append(f"In {_location(where, chain)}: {error}")
    if problems:
        raise WorkflowValidationError(
            "Resource config validation failed:\n" + "\n".join(f"  - {p}" for p in problems)
        )


async def make_resources(table: StepTable, manager: ResourceManager) -> None:
    """Make every resource the steps take, with `manager` keeping the cached ones (as a
    run would; `Workflow.validate` gives a throwaway one); raise a
    `WorkflowValidationError` listing each that fails. Resources that take the run's
    Context are only checked for cycles: there is no run to give them."""
    problems: list[str] = []
    for spec in table.steps.values():
        for parameter, resource in spec.resources:
            where = f"step '{spec.name}', parameter '{parameter}'"
            try:
                prepare(resource)
                if not resource.per_run:
                    await Resolution(manager, None, None).value(resource)
            except Exception as error:  # a factory may raise anything: each is reported
                problems.append(f"In {where}: {error}")
    if problems:
        raise WorkflowValidationError(
            "Resource validation failed:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def _each_resource(
    table: StepTable, seen: set[Hashable], problems: list[str]
) -> Iterator[tuple[str, list[str], ResourceDescriptor]]:
    """Every resource once, with the step parameter and factory chain that reach it."""
    stack: list[tuple[str, list[str], ResourceDescriptor]] = [
        (f"step '{spec.name}', parameter '{parameter}'", [resource.name], resource)
        for spec in table.steps.values()
        for parameter, resource in spec.resources
    ]
    while stack:
        where, chain, resource = stack.pop()
        if resource.key in seen:
            continue
        seen.add(resource.key)
        yield where, chain, resource
        try:
            dependencies = resource.dependencies()
        except (ResourceError, WorkflowValidationError) as error:
            problems.append(f"In {_location(where, chain)}: {error}")
            continue
        stack.extend(
            (where, [*chain, dependency.name], dependency) for _, dependency in dependencies
        )


def _location(where: str, chain: list[str]) -> str:
    return f"{where} ({' -> '.join(chain)})" if len(chain) > 1 else where
