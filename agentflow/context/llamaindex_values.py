"""Values (state and events) as llama-index-workflows' serializers wrote them, read back
as agentflow's objects.

The reference's `JsonSerializer` writes a pydantic model as `{"__is_pydantic": true,
"value": <its JSON dump>, "qualified_name": "module.Class"}` (a LlamaIndex component as
`__is_component`, rebuilt with its class's `from_dict`), and an event's extra fields under
`_data`. Its `PickleSerializer` writes that JSON when it can and base64 pickle otherwise.
Classes are found as agentflow's own serializer finds them, in modules already imported
(loading never imports), with one translation: the reference's own classes
(`workflows.events.StartEvent`, its `DictState`) are agentflow's classes of the same name,
since the program that loads the save runs on agentflow. Written by hand because the
reference is not a dependency of agentflow and its reader imports whatever a save names.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel, ValidationError

from agentflow import events as agentflow_events
from agentflow.context.llamaindex_format import refusal
from agentflow.context.saved_format import child_path, describe_problems
from agentflow.context.serializers import BaseSerializer, JsonSerializer, PickleSerializer
from agentflow.context.state_store import DictState
from agentflow.events import Event

_EVENTS_MODULE = "workflows.events"
_REFERENCE_CLASSES: dict[str, type[Any]] = {
    "workflows.context.state_store.DictState": DictState,
}
"""The reference's classes agentflow has under another module name (besides its events)."""


class LlamaIndexValues:
    """Reads the strings of a save through the serializer `Context.from_dict` was given:
    agentflow's `JsonSerializer` (the default) reads the reference's JSON; its
    `PickleSerializer` reads that JSON, and pickles (which run code: trusted saves only);
    any other serializer, a subclass of those two included (it may write a format of its
    own), reads each string itself."""

    def __init__(self, serializer: BaseSerializer | None) -> None:
        self.serializer = serializer or JsonSerializer()

    def read(self, text: str, where: str) -> Any:
        """The value `text` holds; `where` is its key path, named in every error."""
        serializer = self.serializer
        if type(serializer) not in (JsonSerializer, PickleSerializer):
            return serializer.deserialize_at(text, where)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            # A pickle's base64 is never JSON, nor is JSON a pickle's base64 (a pickle starts
            # with a protocol byte), so which of the two the reference wrote is plain.
            if isinstance(serializer, PickleSerializer):
                return serializer.deserialize_at(text, where)
            raise refusal(
                where,
                f"not JSON ({error}); a value the reference's PickleSerializer pickled loads "
                "with serializer=PickleSerializer()",
            ) from None
        return self._decode(data, where)

    def event(self, text: str, where: str) -> Event:
        """The event `text` holds, or a ContextSerdeError naming `where`."""
        value = self.read(text, where)
        if not isinstance(value, Event):
            raise refusal(
                where, f"a value of type {type(value).__name__}, where an agentflow event belongs"
            )
        return value

    def _decode(self, data: Any, where: str) -> Any:
        if isinstance(data, list):
            return [self._decode(item, child_path(where, index)) for index, item in enumerate(data)]
        if not isinstance(data, dict):
            return data
        name = data.get("qualified_name")
        if data.get("__is_pydantic") and isinstance(name, str):
            return self._model(name, data.get("value"), where)
        if data.get("__is_component") and isinstance(name, str):
            return self._component(name, data.get("value"), where)
        return {key: self._decode(item, child_path(where, key)) for key, item in data.items()}

    def _model(self, name: str, value: Any, where: str) -> BaseModel:
        model_type = loaded_class(name, where)
        if not (isinstance(model_type, type) and issubclass(model_type, BaseModel)):
            raise refusal(where, f"{name} is not a pydantic model")
        if not isinstance(value, dict):
            raise refusal(where, f"the saved {name} should be a dict, got {type(value).__name__}")
        extra = value.get("_data")
        if issubclass(model_type, Event) and isinstance(extra, dict):
            # The reference's events keep extra fields apart, under "_data"; agentflow's
            # events hold them as pydantic extras.
            value = {**extra, **{key: item for key, item in value.items() if key != "_data"}}
        try:
            return model_type.model_validate(value)
        except ValidationError as error:
            raise refusal(
                where,
                f"the saved {model_type.__qualname__} is not valid: {describe_problems(error)}",
            ) from None

    def _component(self, name: str, value: Any, where: str) -> Any:
        component_type = loaded_class(name, where)
        from_dict = getattr(component_type, "from_dict", None)
        if not callable(from_dict):
            raise refusal(where, f"{name} has no from_dict to rebuild the saved component")
        return from_dict(value)


def loaded_class(name: str, where: str) -> object:
    """The class the reference's `module.Class` names: agentflow's for the reference's own
    classes, else from the longest module prefix already imported; never imports."""
    if name.startswith(f"{_EVENTS_MODULE}."):
        found = getattr(agentflow_events, name.removeprefix(f"{_EVENTS_MODULE}."), None)
        if isinstance(found, type):
            return found
    if name in _REFERENCE_CLASSES:
        return _REFERENCE_CLASSES[name]
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is None:
            continue
        target: object = module
        for part in parts[split:]:
            target = getattr(target, part, None)
            if target is None:
                break
        if target is not None:
            return target
    raise refusal(
        where,
        f"cannot load class {name} named in the save: no imported module holds it, and "
        "loading never imports a module; import the module defining it before loading",
    )
