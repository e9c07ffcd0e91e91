"""Nodes for the resources steps receive: what the factory is, where it is defined, and an
id that stays the same from one process to the next.

The id is a hash of the factory's qualified name and file, computed as the reference
computes it, so that the node of one resource has the same id in both libraries' graphs
and a tool keyed on ids (a saved layout, a diff of two graphs) keeps working.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from agentflow.representation.types import WorkflowResourceNode
from agentflow.resource import Resource


def resource_node(resource: Resource[Any], type_annotation: Any) -> WorkflowResourceNode:
    """The node of `resource`, whose steps annotate it `Annotated[type_annotation, ...]`."""
    factory = resource.factory
    source_file, source_line = _where_defined(factory)
    digest = hashlib.sha256(f"{resource.name}:{source_file or 'unknown'}".encode()).hexdigest()
    type_name = _type_name(type_annotation)
    return WorkflowResourceNode(
        id=f"resource_{digest[:12]}",
        label=type_name or resource.name,
        type_name=type_name,
        getter_name=resource.name,
        source_file=source_file,
        source_line=source_line,
        description=inspect.getdoc(factory),
    )


def resource_types(function: Callable[..., Any]) -> dict[str, Any]:
    """`T` of each parameter of `function` annotated `Annotated[T, Resource(...)]`, by
    parameter name. The step table has already resolved these annotations once, so they
    resolve again; should one not (a class local to a function, named in a string
    annotation), its resource is drawn by its factory's name instead of its type's."""
    try:
        hints = get_type_hints(function, include_extras=True)
    except NameError:
        return {}
    return {
        name: get_args(hint)[0]
        for name, hint in hints.items()
        if get_origin(hint) is Annotated
        and any(isinstance(meta, Resource) for meta in hint.__metadata__)
    }


def _where_defined(factory: Callable[..., Any]) -> tuple[str | None, int | None]:
    """The factory's file and first line, each None when Python cannot tell: a builtin or
    a `functools.partial` has no file, code run from a string has no lines to read (the
    reference raises there; a drawing of such a workflow is still worth having)."""
    try:
        source_file = inspect.getfile(factory)
    except TypeError:
        return None, None
    try:
        return source_file, inspect.getsourcelines(factory)[1]
    except (OSError, TypeError):
        return source_file, None


def _type_name(annotation: Any) -> str | None:
    if annotation is None:
        return None
    return getattr(annotation, "__name__", None) or str(annotation)
