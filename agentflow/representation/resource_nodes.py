"""Nodes for what steps receive by annotation: a resource made by a factory (where the
factory is defined, what it says of itself) or a config read from a JSON file (the file,
the path in it, the model, the value when the file can be read).

Ids are hashes computed as the reference computes them (the factory's qualified name and
file; the config's file and path), so that one resource has the same id in both libraries'
graphs and a tool keyed on ids (a saved layout, a diff of two graphs) keeps working.

A descriptor is read through the names the reference documents: a factory resource's
`factory` and `name`; a config's `config_file`, `path_selector`, `label` and `description`
(a missing config file raises, as in the reference). One that lists what it needs
(`dependencies()`: pairs of the factory's parameter and the descriptor it receives) gets
an edge to each.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, get_args, get_type_hints

from pydantic import BaseModel

from agentflow.representation.types import WorkflowResourceConfigNode, WorkflowResourceNode

ResourceNode = WorkflowResourceNode | WorkflowResourceConfigNode


def descriptor_node(descriptor: Any, type_annotation: Any) -> ResourceNode:
    """The node of `descriptor`, found in `Annotated[type_annotation, descriptor]`."""
    if hasattr(type(descriptor), "config_file"):  # the class: the property reads the disk
        return _config_node(descriptor, type_annotation)
    return _factory_node(descriptor, type_annotation)


def descriptor_key(descriptor: Any) -> object:
    """What makes two descriptors one node: the factory (`Resource(make_db)` written in two
    steps is one resource), or the file and path of a config."""
    factory = getattr(descriptor, "factory", None)
    if factory is not None:
        return factory
    return (getattr(descriptor, "config_file", None), getattr(descriptor, "path_selector", None))


def dependencies_of(descriptor: Any) -> list[tuple[str, Any]]:
    """(parameter, descriptor) for each resource `descriptor`'s factory takes; none for a
    descriptor that does not list them."""
    listed: Callable[[], Iterable[tuple[str, Any]]] | None = getattr(
        descriptor, "dependencies", None
    )
    return [] if listed is None else [(parameter, needed) for parameter, needed in listed()]


def resource_types(function: Callable[..., Any], parameters: Iterable[str]) -> dict[str, Any]:
    """`T` of each of `parameters` (annotated `Annotated[T, descriptor]`) of `function`.
    A step's annotations have been resolved once already (by the step table), so they
    resolve again; should they not (a class local to a function, named in a string
    annotation), the resources are drawn by their factories' names instead of their types'."""
    try:
        hints = get_type_hints(function, include_extras=True)
    except (NameError, TypeError):  # TypeError: a factory that is no function (a partial)
        return {}
    return {name: get_args(hints[name])[0] for name in parameters if get_args(hints.get(name))}


def _factory_node(resource: Any, type_annotation: Any) -> WorkflowResourceNode:
    factory = resource.factory
    source_file, source_line = _where_defined(factory)
    digest = _digest(f"{resource.name}:{source_file or 'unknown'}")
    type_name = _type_name(type_annotation)
    return WorkflowResourceNode(
        id=f"resource_{digest}",
        label=type_name or resource.name,
        type_name=type_name,
        getter_name=resource.name,
        source_file=source_file,
        source_line=source_line,
        description=inspect.getdoc(factory),
    )


def _config_node(config: Any, type_annotation: Any) -> WorkflowResourceConfigNode:
    config_file: str = config.config_file  # absolute; a missing file is its error to raise
    selector: str | None = config.path_selector
    digest = _digest(f"{config_file}:{selector or ''}")
    type_name = _type_name(type_annotation)
    schema = (
        type_annotation.model_json_schema()
        if isinstance(type_annotation, type) and issubclass(type_annotation, BaseModel)
        else None
    )
    return WorkflowResourceConfigNode(
        id=f"resource_config_{digest}",
        label=getattr(config, "label", None) or type_name or config_file,
        type_name=type_name,
        config_file=config_file,
        path_selector=selector,
        config_schema=schema,
        config_value=_config_value(config_file, selector),
        description=getattr(config, "description", None),
    )


def _config_value(config_file: str, selector: str | None) -> dict[str, Any] | None:
    """The object at `selector` in the file; None when the file cannot be read or holds
    no object there (the reference raises; the run itself reports that, naming the key)."""
    try:
        value: Any = json.loads(Path(config_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for key in selector.split(".") if selector else ():
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else None


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


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _type_name(annotation: Any) -> str | None:
    if annotation is None:
        return None
    return getattr(annotation, "__name__", None) or str(annotation)
