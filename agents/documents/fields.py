"""The user's schema as fields to ask for, and the per-call response model derived from it.

For a schema `Invoice(number: str, total: float, line_items: list[LineItem])` each LLM call
is asked (through a strict JSON schema `response_format`) for:

```
InvoiceExtraction
  number:     {value: str | null, quote: str, confidence: float}
  total:      {value: float | null, quote: str, confidence: float}
  line_items: [{value: LineItem, quote: str, confidence: float}, ...]
```

Every field may be absent from a chunk, because one chunk rarely holds them all; each
value carries its own quote so it can be checked against the chunk, and each list item its
own, so items found in different chunks can be merged one by one. A value's type and
constraints are the user's (`Annotated` metadata kept), so a reply that breaks them fails
validation and is re-asked with the error.

A field's object is always there and only its `value` may be null. The schema never offers
`null` for the whole field: a server that turns the schema into a grammar (llama.cpp,
Ollama, vLLM) lets a model skip such a field with one token before writing any of it, and
small models do: a 1.5B model under llama.cpp answered `null` for every such field, and
filled every one once only the value was nullable. Read back, a reply that does answer
`null` for a field (a model without a grammar, or a script written for the older shape)
counts as "not stated", without a re-ask.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, Field, TypeAdapter, create_model
from pydantic.fields import FieldInfo

from agents.documents.errors import SchemaNotSupportedError

_QUOTE_HELP = (
    "The shortest passage of the text that states the value, copied character for "
    'character (no paraphrase, no ellipsis); "" when the value is null.'
)
_CONFIDENCE_HELP = "How sure you are that the value is right, from 0 to 1."
_NOT_STATED_HELP = "null when the text does not state it."
_FIELD_HELP = "Always give this object; its value is null when the text does not state it."
# What a reply's `null` for a whole field is read as.
_NOT_STATED: dict[str, Any] = {"value": None, "quote": "", "confidence": 0.0}


@dataclass(frozen=True)
class FieldSpec:
    """One field of the user's schema, as the pipeline asks for and merges it."""

    name: str
    """The field's name in the schema (its alias is not used)."""
    annotation: Any
    """The field's type, constraints included."""
    item: Any
    """For a list field, the type of one item; None for a scalar field."""
    required: bool
    """True when the schema has no default for it."""
    description: str | None
    """The schema's description, shown to the LLM."""

    @property
    def is_list(self) -> bool:
        """Whether values found in several places are concatenated (a list field)."""
        return self.item is not None

    def to_json(self, value: Any) -> Any:
        """A validated value in JSON form (dates as ISO strings, models as dicts)."""
        return TypeAdapter(self.annotation).dump_python(value, mode="json")

    def validate(self, value: Any) -> Any:
        """`value` checked against the field's type, in JSON form; raises ValidationError."""
        adapter: TypeAdapter[Any] = TypeAdapter(self.annotation)
        return adapter.dump_python(adapter.validate_python(value), mode="json")


def field_specs(schema: type[BaseModel]) -> dict[str, FieldSpec]:
    """The schema's fields in order, as `FieldSpec`s."""
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise TypeError(f"schema must be a pydantic model class, got {schema!r}")
    if not schema.__pydantic_complete__:
        try:
            schema.model_rebuild()
        except Exception as error:  # pydantic's own error names what is undefined
            raise SchemaNotSupportedError(schema, "(schema)", str(error).split("\n")[0]) from error
    specs: dict[str, FieldSpec] = {}
    for name, info in schema.model_fields.items():
        annotation = _with_metadata(info)
        specs[name] = FieldSpec(
            name=name,
            annotation=annotation,
            item=_list_item(info.annotation),
            required=info.is_required(),
            description=info.description,
        )
    if not specs:
        raise SchemaNotSupportedError(schema, "(none)", "the schema has no fields to extract")
    return specs


def _with_metadata(info: FieldInfo) -> Any:
    if info.metadata:
        return Annotated[(info.annotation, *info.metadata)]
    return info.annotation


def _list_item(annotation: Any) -> Any:
    """The item type when `annotation` is a list, set or tuple (optionally `| None`)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _list_item(members[0]) if len(members) == 1 else None
    if origin in (list, set, frozenset):
        return get_args(annotation)[0] if get_args(annotation) else Any
    if origin is tuple:
        args = get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
    return None


def response_model(
    schema: type[BaseModel] | str, specs: dict[str, FieldSpec], names: list[str]
) -> type[BaseModel]:
    """The model one LLM call must reply with, asking for the fields in `names`; `schema`
    (the user's model, or a JSON schema's title) names it."""
    prefix = schema if isinstance(schema, str) else schema.__name__
    prefix = "".join(char if char.isalnum() else "_" for char in prefix)
    fields: dict[str, Any] = {}
    for name in names:
        spec = specs[name]
        help_ = spec.description or f"The {name.replace('_', ' ')}."
        if spec.is_list:
            value: Any = (spec.item, Field(description=help_))
        else:
            help_ = f"{help_.rstrip('.')}; {_NOT_STATED_HELP}"
            value = (spec.annotation | None, Field(description=help_))
        found = create_model(
            f"{prefix}_{name}_found",
            value=value,
            quote=(str, Field(description=_QUOTE_HELP)),
            confidence=(float, Field(ge=0.0, le=1.0, description=_CONFIDENCE_HELP)),
        )
        if spec.is_list:
            help_ = (
                "Every item of this list stated in the text, each with its own quote; [] for none."
            )
            fields[name] = (list[found], Field(description=help_))
        else:
            # The validator only reads a reply: the schema sent is `found`'s, with no null.
            not_stated = BeforeValidator(_null_as_not_stated)
            fields[name] = (Annotated[found, not_stated], Field(description=_FIELD_HELP))
    model: type[BaseModel] = create_model(f"{prefix}Extraction", **fields)
    return model


def _null_as_not_stated(entry: Any) -> Any:
    return dict(_NOT_STATED) if entry is None else entry
