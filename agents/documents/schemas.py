"""What an extraction fills, whatever the user wrote it as: `ExtractionSchema`.

A pydantic model (`ModelSchema`) or a JSON Schema dict (`JsonSchema`, in `json_schema.py`)
gives the pipeline the same three things: the fields to ask for (`specs`), the reply model
one LLM call must answer with for some of them (`response_model`), and the final check of
the merged data (`validated`: a model instance, or the dict itself). Everything between
(evidence, merge, review) works on fields in JSON form and never asks which it was.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from agents.documents.errors import SchemaMismatch
from agents.documents.fields import FieldSpec, field_specs, response_model


class ExtractionSchema(ABC):
    """The schema of one extraction, as the pipeline uses it."""

    def __init__(self, name: str, source: Any, specs: dict[str, FieldSpec]) -> None:
        self.name = name
        """What reply models and error messages call it."""
        self.source = source
        """The schema as the user gave it: the model class, or the JSON schema dict."""
        self.specs = specs
        """Its fields in order, as asked for and merged."""
        self._response_models: dict[tuple[str, ...], type[BaseModel]] = {}

    def response_model(self, names: list[str]) -> type[BaseModel]:
        """The model one LLM call must reply with, asking for the fields `names` (made once
        per set of names)."""
        key = tuple(names)
        if key not in self._response_models:
            self._response_models[key] = response_model(self.name, self.specs, names)
        return self._response_models[key]

    @abstractmethod
    def validated(self, data: dict[str, Any]) -> Any:
        """The result's `data` for the merged `data` (JSON form, keyed by field name);
        raises `SchemaMismatch` when it does not validate."""


class ModelSchema(ExtractionSchema):
    """A pydantic model as an `ExtractionSchema`: the data is an instance of it."""

    def __init__(self, model: type[BaseModel]) -> None:
        """Read `model`'s fields; `SchemaNotSupportedError` names one that cannot be asked
        for."""
        super().__init__(model.__name__, model, field_specs(model))
        self.model = model
        """The user's model."""

    def validated(self, data: dict[str, Any]) -> BaseModel:
        """`data` as an instance of the model (by field name, whatever the aliases)."""
        try:
            return self.model.model_validate(data, by_name=True)
        except ValidationError as error:
            raise SchemaMismatch(_problems_in(error)) from error


def _problems_in(error: ValidationError) -> dict[str, str]:
    """A pydantic ValidationError's errors by key path, a missing top-level field said as
    "not found in any document"."""
    return problems_by_path(
        (
            ".".join(str(part) for part in item["loc"]) or "(data)",
            "not found in any document"
            if item["type"] == "missing" and len(item["loc"]) == 1
            else item["msg"],
        )
        for item in error.errors()
    )


def problems_by_path(problems: Iterable[tuple[str, str]]) -> dict[str, str]:
    """(key path, problem) pairs as one entry per path, several problems at one path
    joined by "; " (none is lost)."""
    by_path: dict[str, list[str]] = {}
    for path, problem in problems:
        by_path.setdefault(path, []).append(problem)
    return {path: "; ".join(found) for path, found in by_path.items()}
