"""How `Context.to_dict` turns state and events into strings, and back.

`JsonSerializer` (the default) writes JSON that a person can read and another process
can load: pydantic models, events included, carry their class's import path and are
rebuilt as that class; plain JSON values pass as they are. Anything else is refused with
an error that says where it was, rather than written in a lossy form. Loading finds
classes only in modules the process has already imported: a saved context is data, and
importing a module it names would run that module's code. `PickleSerializer` stores any
picklable value, for trusted storage only.
"""

from __future__ import annotations

import base64
import binascii
import json
import pickle
import sys
from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from agentflow.context.compact_models import declared_model, holds_default, item_annotation
from agentflow.context.saved_format import child_path, describe_problems
from agentflow.errors import ContextSerdeError

_MODEL = "__model__"
_TUPLE = "__tuple__"
_DICT = "__dict__"
_EXCEPTION = "__exception__"
_RESERVED = (_MODEL, _TUPLE, _DICT, _EXCEPTION)
_FORMAT_1_KEYS = ("fields", "extra")
_ABSENT = object()


class BaseSerializer(ABC):
    """Turns one value into a string and back."""

    @abstractmethod
    def serialize(self, value: Any, where: str = "value") -> str:
        """`value` as a string; `where` names it in errors (e.g. "state key 'user'")."""

    @abstractmethod
    def deserialize(self, data: str) -> Any:
        """The value `serialize` was given."""

    def deserialize_at(self, data: str, where: str) -> Any:
        """`deserialize(data)`, any failure raised as a ContextSerdeError naming `where`
        (the key path in the saved context, e.g. "run.queued[0].event")."""
        try:
            return self.deserialize(data)
        except ContextSerdeError as error:
            raise ContextSerdeError(f"{where}: {error}") from error
        except Exception as error:
            # A serializer's own errors for bad input cannot be known in advance; the
            # cause is kept on the error raised instead.
            raise ContextSerdeError(
                f"{where}: {type(self).__name__} cannot read it: {error!r}"
            ) from error


class JsonSerializer(BaseSerializer):
    """JSON, with pydantic models (events included) rebuilt by class."""

    def serialize(self, value: Any, where: str = "value") -> str:
        """See `BaseSerializer.serialize`; raises ContextSerdeError naming `where` and the
        type of a value JSON cannot hold."""
        return json.dumps(_encode(value, where))

    def deserialize(self, data: str) -> Any:
        """See `BaseSerializer.deserialize`; raises ContextSerdeError for text that is not
        JSON or names a class no imported module holds."""
        return self.deserialize_at(data, "value")

    def deserialize_at(self, data: str, where: str) -> Any:
        """See `BaseSerializer.deserialize_at`; errors name the key path inside the value
        too (`state.user.address`)."""
        try:
            decoded = json.loads(data)
        except json.JSONDecodeError as error:
            raise ContextSerdeError(f"{where} is not JSON: {error}") from None
        return _decode(decoded, where)


class PickleSerializer(BaseSerializer):
    """Any picklable value. Unpickling runs code: load only what you wrote yourself."""

    def serialize(self, value: Any, where: str = "value") -> str:
        """See `BaseSerializer.serialize`."""
        try:
            return base64.b64encode(pickle.dumps(value)).decode("ascii")
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            raise ContextSerdeError(
                f"{where} holds a {type(value).__name__} that cannot be pickled: {error}"
            ) from error

    def deserialize(self, data: str) -> Any:
        """See `BaseSerializer.deserialize`."""
        try:
            raw = base64.b64decode(data, validate=True)
        except binascii.Error as error:
            raise ContextSerdeError(f"not the base64 PickleSerializer writes: {error}") from None
        return pickle.loads(raw)


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_encode(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(item, f"{where}[{index}]") for index, item in enumerate(value)]}
    if isinstance(value, dict):
        encoded = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ContextSerdeError(
                    f"{where} has a key of type {type(key).__name__} ({key!r}); JSON keys are "
                    "strings (use PickleSerializer for other keys)"
                )
            encoded[key] = _encode(item, f"{where}[{key!r}]")
        return {_DICT: encoded} if any(key in encoded for key in _RESERVED) else encoded
    if isinstance(value, BaseModel):
        return _encode_model(value, where)
    if isinstance(value, BaseException):
        return _encode_exception(value, where)
    raise ContextSerdeError(
        f"{where} holds a {type(value).__module__}.{type(value).__qualname__}, which "
        "JsonSerializer cannot store; keep JSON values or pydantic models there, or pass "
        "serializer=PickleSerializer()"
    )


def _encode_model(model: BaseModel, where: str, class_is_known: bool = False) -> dict[str, Any]:
    """The fields that do not hold their default, then the extra ones, beside
    `"__model__": "module:Class"`, left out when `class_is_known` (the field holding the
    model declares its class, see `agentflow.context.compact_models`). Names that would be
    read as something else keep the longer form of format 1,
    `{"__model__", "fields", "extra"}`."""
    model_type = type(model)
    if not class_is_known and "<locals>" in model_type.__qualname__:
        raise ContextSerdeError(
            f"{where} is a {model_type.__qualname__}, defined inside a function, so another "
            "process could not import it; define the class at module level"
        )
    fields: dict[str, Any] = {}
    for name, field_info in model_type.model_fields.items():
        if field_info.exclude:
            continue  # the model says not to serialise it: it comes back as its default
        field_value = getattr(model, name)
        field_where = f"{where}.{name}"
        if holds_default(model, name, field_info, field_value, field_where):
            continue
        if _holds_objects(field_value):
            fields[name] = _encode_declared(field_value, field_info.annotation, field_where)
            continue
        try:
            fields[name] = model.model_dump(mode="json", include={name})[name]
        except PydanticSerializationError as error:
            raise ContextSerdeError(f"{field_where}: {error}") from error
    extra = {
        name: _encode(item, f"{where}.{name}")
        for name, item in (model.__pydantic_extra__ or {}).items()
    }
    written = {**fields, **extra}
    if any(name in _RESERVED for name in extra) or _reads_as_format_1(model_type, written):
        return {
            _MODEL: f"{model_type.__module__}:{model_type.__qualname__}",
            "fields": fields,
            "extra": extra,
        }
    if class_is_known:
        return written
    return {_MODEL: f"{model_type.__module__}:{model_type.__qualname__}", **written}


def _reads_as_format_1(model_type: type[BaseModel], written: dict[str, Any]) -> bool:
    """True when a model written as `written` would be read as format 1's
    `{"fields": {...}, "extra": {...}}`: it has a `fields` or `extra` key its class does
    not declare, or both keys holding dicts."""
    if any(key in written and key not in model_type.model_fields for key in _FORMAT_1_KEYS):
        return True
    return written.keys() == set(_FORMAT_1_KEYS) and all(
        isinstance(item, dict) for item in written.values()
    )


def _encode_declared(value: Any, annotation: Any, where: str) -> Any:
    """`_encode(value)`, leaving out the class of each model the field's type declares."""
    if isinstance(value, BaseModel):
        return _encode_model(value, where, type(value) is declared_model(annotation))
    if isinstance(value, list):
        item = item_annotation(annotation, list)
        return [_encode_declared(v, item, f"{where}[{index}]") for index, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        item = item_annotation(annotation, dict)
        encoded = {key: _encode_declared(v, item, f"{where}[{key!r}]") for key, v in value.items()}
        return {_DICT: encoded} if any(key in encoded for key in _RESERVED) else encoded
    return _encode(value, where)


def _encode_exception(error: BaseException, where: str) -> dict[str, Any]:
    # Type, arguments and message: enough to raise it again or show it. The traceback is
    # not kept; it only makes sense in the process that raised.
    error_type = type(error)
    try:
        arguments = _encode(list(error.args), f"{where}.args")
    except ContextSerdeError:
        arguments = None
    return {
        _EXCEPTION: f"{error_type.__module__}:{error_type.__qualname__}",
        "args": arguments,
        "message": str(error),
    }


def _holds_objects(value: Any) -> bool:
    """True when `value` is, or contains, a model or an exception: those carry their
    class, while pydantic's own JSON dump (dates, enums, ...) suits everything else."""
    if isinstance(value, BaseModel | BaseException):
        return True
    if isinstance(value, list | tuple):
        return any(_holds_objects(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_objects(item) for item in value.values())
    return False


def _decode(data: Any, where: str) -> Any:
    if isinstance(data, list):
        return [_decode(item, child_path(where, index)) for index, item in enumerate(data)]
    if not isinstance(data, dict):
        return data
    if _MODEL in data:
        return _decode_model(data, where)
    if _TUPLE in data:
        return tuple(_decode(_expect(data, _TUPLE, list, where), where))
    if _EXCEPTION in data:
        return _decode_exception(data, where)
    if _DICT in data:
        data = _expect(data, _DICT, dict, where)
    return {key: _decode(item, child_path(where, key)) for key, item in data.items()}


def _expect(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise ContextSerdeError(f"{where}: the saved value has no '{key}'")
    value = data[key]
    if not isinstance(value, kind):
        raise ContextSerdeError(
            f"{where}: its '{key}' should be a {kind.__name__}, got {type(value).__name__}"
        )
    return value


def _decode_model(data: dict[str, Any], where: str) -> BaseModel:
    path = _expect(data, _MODEL, str, where)
    model_type = _loaded_class(path, where)
    if not (isinstance(model_type, type) and issubclass(model_type, BaseModel)):
        raise ContextSerdeError(
            f"{where}: {path} named in the saved context is not a pydantic model"
        )
    written = {key: item for key, item in data.items() if key != _MODEL}
    if _reads_as_format_1(model_type, written):
        fields = _expect(data, "fields", dict, where)
        written = {**fields, **_expect(data, "extra", dict, where)}
    return _built(model_type, written, where)


def _built(model_type: type[BaseModel], written: dict[str, Any], where: str) -> BaseModel:
    """`model_type` from its saved fields. A model whose class was left out (the field
    declares it) is rebuilt as that class first, so the model's validators get the same
    input as from format 1, which named every class."""
    declared = model_type.model_fields
    fields = {
        name: _decode_declared(item, declared[name].annotation, child_path(where, name))
        if name in declared
        else _decode(item, child_path(where, name))
        for name, item in written.items()
    }
    try:
        return model_type.model_validate(fields)
    except ValidationError as error:
        raise ContextSerdeError(
            f"{where}: the saved {model_type.__qualname__} is not valid: {describe_problems(error)}"
        ) from None


def _decode_declared(data: Any, annotation: Any, where: str) -> Any:
    """`_decode(data)`, rebuilding each dict `_encode_declared` wrote without its class as
    the class `annotation` declares for it."""
    if isinstance(data, list):
        item = item_annotation(annotation, list)
        return [_decode_declared(v, item, child_path(where, index)) for index, v in enumerate(data)]
    if not isinstance(data, dict):
        return data
    if set(data) == {_DICT}:  # a dict holding keys that read as markers
        entries = _expect(data, _DICT, dict, where)
    elif any(key in data for key in _RESERVED):
        return _decode(data, where)  # a model of another class, a tuple, an exception
    elif isinstance(model_type := declared_model(annotation), type) and issubclass(
        model_type, BaseModel
    ):
        return _built(model_type, data, where)
    else:
        entries = data
    item = item_annotation(annotation, dict)
    return {key: _decode_declared(v, item, child_path(where, key)) for key, v in entries.items()}


class RestoredError(Exception):
    """An exception whose own class could not be rebuilt when a context was loaded: its
    message is `<module:Class>: <original message>`."""


def _decode_exception(data: dict[str, Any], where: str) -> BaseException:
    path = _expect(data, _EXCEPTION, str, where)
    message = _expect(data, "message", str, where)
    saved_arguments = data.get("args")
    if saved_arguments is not None and not isinstance(saved_arguments, list):
        raise ContextSerdeError(
            f"{where}: its 'args' should be a list or null, got {type(saved_arguments).__name__}"
        )
    fallback = RestoredError(f"{path}: {message}")
    try:
        target = _loaded_class(path, where)
    except ContextSerdeError:
        return fallback
    if not (isinstance(target, type) and issubclass(target, BaseException)):
        return fallback
    arguments = (
        _decode(saved_arguments, child_path(where, "args"))
        if saved_arguments is not None
        else [message]
    )
    try:
        error: BaseException = target(*arguments)
    except (TypeError, ValueError):  # a constructor that takes other arguments
        return fallback
    return error


def _loaded_class(path: str, where: str) -> object:
    """What `module:qualname` names, from a module already imported; never imports one."""
    module_name, _, qualname = path.partition(":")
    module = sys.modules.get(module_name)
    if module is None:
        raise ContextSerdeError(
            f"{where}: cannot load class {path} named in the saved context: module "
            f"'{module_name}' is not imported, and loading never imports a module; import it "
            "before loading the context"
        )
    target: object = module
    for part in qualname.split("."):
        target = getattr(target, part, _ABSENT)
        if target is _ABSENT:
            raise ContextSerdeError(
                f"{where}: cannot load class {path} named in the saved context: module "
                f"'{module_name}' has no '{qualname}'"
            )
    return target
