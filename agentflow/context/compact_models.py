"""What `JsonSerializer` may leave out of a saved pydantic model and still load it exactly.

Two things:

- a field holding its default that was not set explicitly: loading gives it the default
  again, and leaves it out of `model_fields_set` as it was. Only a default that can be
  compared exactly is left out (a plain value, an empty list or dict, a model built by its
  class as `default_factory`; -0.0 is not 0.0), and never in a model whose `before`/`wrap`
  validator sees the input, as such a validator may fill a field that is missing;
- the class of a model held in a field that declares exactly that class (`usage: Usage`,
  `messages: list[ChatMessage]`, `entries: dict[str, Entry] | None`): loading rebuilds it
  as the field's class before the model holding it validates, so that model's validators
  see a model there, as when every class was written.
"""

from __future__ import annotations

import math
import types
from functools import cache
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from agentflow.errors import ContextSerdeError

_NO_DEFAULT = object()
_EMPTY: dict[Any, Any] = {list: [], dict: {}}  # compared with, never handed out
# A model built by a field's `default_factory`, per class and field: built once, as a
# save compares every field that was not set with it.
_BUILT_DEFAULTS: dict[tuple[type[BaseModel], str], BaseModel] = {}


def holds_default(model: BaseModel, name: str, field: FieldInfo, value: Any, where: str) -> bool:
    """True when `value`, held in field `name` of `model`, can be left out of its save: it is
    exactly the field's default, was not set explicitly (loading keeps `model_fields_set`
    as it was, which validators and `model_post_init` may read), and the model's validators
    see no missing field. `where` names the field in the error a raising factory gives."""
    model_type = type(model)
    if name in model.model_fields_set or _validates_raw_input(model_type):
        return False
    default = _comparable_default(model_type, name, field, where)
    return default is not _NO_DEFAULT and _same(value, default)


def non_default_fields(model_type: type[BaseModel], **values: Any) -> dict[str, Any]:
    """`values` without those that are exactly their field's default. A constructor that
    passes a default explicitly puts the field in `model_fields_set`, so a save writes it;
    `model_type(**non_default_fields(model_type, ...))` builds the same model, which saves
    without it."""
    defaults = _defaults(model_type)
    given = {}
    for name, value in values.items():
        default = defaults.get(name, _NO_DEFAULT)
        if default is _NO_DEFAULT or (value is not default and not _same(value, default)):
            given[name] = value
    return given


def declared_model(annotation: Any) -> Any:
    """`annotation` without `| None`: what a value in the field must be for its class to be
    left out (`type(value) is declared_model(...)`)."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def item_annotation(annotation: Any, container: type) -> Any:
    """The declared type of the items of a `container` (list, or dict's values) a field of
    type `annotation` holds; `Any` when it declares none."""
    declared = declared_model(annotation)
    if get_origin(declared) is not container:
        return Any
    arguments = get_args(declared)
    return arguments[-1] if arguments else Any


@cache
def _validates_raw_input(model_type: type[BaseModel]) -> bool:
    validators = model_type.__pydantic_decorators__.model_validators.values()
    return any(validator.info.mode in ("before", "wrap") for validator in validators)


@cache
def _defaults(model_type: type[BaseModel]) -> dict[str, Any]:
    """Each field's comparable default (or `_NO_DEFAULT`), once per class: constructors on
    the agents' turn path ask for every model they build."""
    return {
        name: _comparable_default(model_type, name, field, name)
        for name, field in model_type.__pydantic_fields__.items()
    }


def _comparable_default(
    model_type: type[BaseModel], name: str, field: FieldInfo, where: str
) -> Any:
    if field.default is not PydanticUndefined:
        return field.default
    factory = field.default_factory
    if factory in (list, dict):
        return _EMPTY[factory]
    if not (isinstance(factory, type) and issubclass(factory, BaseModel)):
        return _NO_DEFAULT  # another factory may give a new value each time (ids, clocks)
    key = (model_type, name)
    if key not in _BUILT_DEFAULTS:
        try:
            _BUILT_DEFAULTS[key] = factory()
        except Exception as error:  # the factory is the model's own code: any error
            raise ContextSerdeError(
                f"{where}: the default_factory of {model_type.__qualname__}.{name} raised {error!r}"
            ) from error
    return _BUILT_DEFAULTS[key]


def _same(value: Any, default: Any) -> bool:
    """Equal and of the same types all the way down: `False` is not the default `0`."""
    if type(value) is not type(default):
        return False
    if isinstance(value, list | tuple):
        return len(value) == len(default) and all(map(_same, value, default))
    if isinstance(value, dict):
        return value.keys() == default.keys() and all(
            _same(item, default[key]) for key, item in value.items()
        )
    if isinstance(value, BaseModel):
        return _same(value.__dict__, default.__dict__) and _same(
            value.__pydantic_extra__ or {}, default.__pydantic_extra__ or {}
        )
    if isinstance(value, float):
        # -0.0 == 0.0 but loads as 0.0; NaN != NaN but loads as NaN.
        return (value == default and math.copysign(1.0, value) == math.copysign(1.0, default)) or (
            math.isnan(value) and math.isnan(default)
        )
    return bool(value == default)
