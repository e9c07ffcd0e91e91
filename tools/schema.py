"""From a Python signature to a pydantic model of its arguments (the tool's JSON schema).

`describe_function(fn)` reads the signature once: each parameter becomes a model field
with its type hint (pydantic models, enums, `Literal`, `Optional`, containers), its
default, and a description from `Annotated[..., Field(description=...)]` or, failing that,
from the docstring (Google, NumPy or reST, parsed by `docstring_parser`). A parameter
annotated with agentflow's `Context` is left out of the schema: the caller supplies it.
"""

from __future__ import annotations

import functools
import inspect
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import docstring_parser
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from tools.errors import ToolDefinitionError


@dataclass(frozen=True, slots=True)
class FunctionDescription:
    """What a function looks like to a tool: its schema and how to call it."""

    summary: str
    """The docstring's summary line ("" when there is no docstring)."""
    fn_schema: type[BaseModel]
    """A pydantic model of the arguments; validation and the JSON schema come from it."""
    context_param: str | None
    """The parameter that receives agentflow's Context, if the function declares one."""
    positional_only: tuple[str, ...]
    """Parameters that must be passed by position, in order."""
    param_names: dict[str, str]
    """Model field name -> parameter name, where they differ (names pydantic reserves)."""


def describe_function(fn: Callable[..., Any], name: str) -> FunctionDescription:
    """Read `fn`'s signature, hints and docstring into a `FunctionDescription`.

    Raises `ToolDefinitionError` naming the function and parameter for `*args`,
    `**kwargs` or a type hint that cannot be resolved.
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as error:
        raise ToolDefinitionError(f"tool '{name}': cannot read the signature of {fn!r}") from error
    hints = _type_hints(fn, name)
    docstring = parse_docstring(fn)
    param_docs = {p.arg_name: p.description for p in docstring.params if p.description}

    fields: dict[str, Any] = {}
    param_names: dict[str, str] = {}
    context_param: str | None = None
    positional_only: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            star = "*" if parameter.kind is parameter.VAR_POSITIONAL else "**"
            raise ToolDefinitionError(
                f"tool '{name}': parameter '{star}{parameter.name}' cannot be described in a "
                "JSON schema; name each parameter, or pass fn_schema="
            )
        annotation = hints.get(parameter.name, Any)
        if is_context_annotation(annotation):
            context_param = parameter.name
            continue
        if parameter.kind is parameter.POSITIONAL_ONLY:
            positional_only.append(parameter.name)
        field_name = _field_name(parameter.name, signature)
        if field_name != parameter.name:
            param_names[field_name] = parameter.name
        fields[field_name] = _field(parameter, annotation, param_docs.get(parameter.name))

    fn_schema: type[BaseModel] = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
    return FunctionDescription(
        summary=docstring.short_description or "",
        fn_schema=fn_schema,
        context_param=context_param,
        positional_only=tuple(positional_only),
        param_names=param_names,
    )


def parse_docstring(fn: Callable[..., Any]) -> docstring_parser.Docstring:
    """`fn`'s docstring parsed (Google, NumPy, reST or Epydoc, detected); for a callable
    object without one of its own, its `__call__`'s."""
    doc = inspect.getdoc(fn)
    if not doc and not inspect.isroutine(fn):
        doc = inspect.getdoc(type(fn).__call__)
    return docstring_parser.parse(doc or "")


def is_context_annotation(annotation: Any) -> bool:
    """True for agentflow's `Context` or `Context[State]`.

    Looked up in `sys.modules` rather than imported: an annotation can only be the
    Context class if agentflow.context has already been imported by whoever wrote it.
    """
    module = sys.modules.get("agentflow.context")
    if module is None:
        return False
    context_class = module.Context
    return annotation is context_class or typing.get_origin(annotation) is context_class


def _type_hints(fn: Callable[..., Any], name: str) -> dict[str, Any]:
    target: Any = fn
    while isinstance(target, functools.partial):
        target = target.func
    if not inspect.isroutine(target):
        target = type(target).__call__
    try:
        return typing.get_type_hints(target, include_extras=True)
    except NameError as first_error:
        # `Context` imported only under TYPE_CHECKING (a common pattern with
        # `from __future__ import annotations`) still has to be recognised.
        from agentflow.context import Context

        try:
            return typing.get_type_hints(target, localns={"Context": Context}, include_extras=True)
        except NameError as error:
            raise ToolDefinitionError(
                f"tool '{name}': cannot resolve a type hint of {fn!r}: {error}"
            ) from first_error


def _field_name(param: str, signature: inspect.Signature) -> str:
    # pydantic refuses fields starting with "_" and those shadowing BaseModel attributes
    # ("json", "copy", "schema", ...): such a parameter gets a private field name and keeps
    # its own name as the alias the schema shows and validation reads.
    if not param.startswith("_") and not hasattr(BaseModel, param):
        return param
    candidate = "p_" + param.lstrip("_")
    while candidate in signature.parameters or hasattr(BaseModel, candidate):
        candidate = "p_" + candidate
    return candidate


def _field(parameter: inspect.Parameter, annotation: Any, doc: str | None) -> tuple[Any, Any]:
    """(annotation, FieldInfo) for `create_model`. A default that is itself a
    `Field(...)` (pydantic's `validate_call` style) joins the annotation's metadata."""
    options: dict[str, Any] = {}
    default = parameter.default
    if isinstance(default, FieldInfo):
        annotation = typing.Annotated[annotation, default]
    elif default is not parameter.empty:
        options["default"] = default
    if doc and not _has_description(annotation):
        options["description"] = doc
    if parameter.name.startswith("_") or hasattr(BaseModel, parameter.name):
        options["alias"] = parameter.name
    return annotation, Field(**options)


def _has_description(annotation: Any) -> bool:
    if typing.get_origin(annotation) is not typing.Annotated:
        return False
    return any(isinstance(meta, FieldInfo) and meta.description for meta in annotation.__metadata__)


_TYPED = ("type", "$ref", "enum", "const", "anyOf", "oneOf", "allOf")


def null_means_default(schema: dict[str, Any]) -> set[str]:
    """Parameters of `schema` (a tool's arguments) for which an LLM's `null` stands for "use
    the default": those with a default that do not accept null themselves. A provider that
    must make every parameter required (OpenAI's strict mode) offers `null` for them, and
    `FunctionTool` drops such a `null` before validating, so that the default applies."""
    required = set(schema.get("required", ()))
    return {
        name
        for name, prop in schema.get("properties", {}).items()
        if name not in required and "default" in prop and not _allows_null(prop)
    }


def _allows_null(prop: dict[str, Any]) -> bool:
    if not any(key in prop for key in _TYPED):
        return True  # no type at all (Any): null is a value like any other
    options = [prop, *prop.get("anyOf", ()), *prop.get("oneOf", ())]
    return any(option.get("type") == "null" for option in options)
