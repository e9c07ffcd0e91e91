"""`ResourceConfig`: a pydantic model loaded from a JSON file, injected like a resource.

    settings: Annotated[Classifier, ResourceConfig("classifier.json", path_selector="llm")]

The file is read when the value is first needed (or by `Workflow.validate()`, which the
first run calls), relative to the working directory then; `path_selector` ("a.b") picks a
nested object. Its value is always cached, under the name `file.path_selector`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agentflow.errors import (
    ResourceConfigError,
    ResourceConfigNotFoundError,
    WorkflowValidationError,
)
from agentflow.resource.descriptor import ResourceDescriptor


class ResourceConfig(ResourceDescriptor):
    """Marks a parameter `Annotated[Model, ResourceConfig(config_file, ...)]`: it receives
    `Model` validated from the JSON file (or the object at `path_selector` in it)."""

    def __init__(
        self,
        config_file: str,
        path_selector: str | None = None,
        label: str | None = None,
        description: str | None = None,
    ) -> None:
        if Path(config_file).suffix != ".json":
            raise ResourceConfigError(
                f"ResourceConfig({config_file!r}): Only JSON files can be used to load "
                "Pydantic-based resources (name a .json file)."
            )
        super().__init__()
        self._original_config_file = config_file
        self.path_selector = path_selector
        """Dot-separated keys of the object to load ("llm.openai"); None for the whole file."""
        self.label = label
        """A short name for drawings."""
        self.description = description
        """What the configuration is for, for drawings."""
        self.cls_factory: type[BaseModel] | None = None
        """The model it loads into: the `T` of the `Annotated[T, ...]` it marks."""
        self.cache = True

    @property
    def config_file(self) -> str:
        """The file's absolute path; raises `ResourceConfigNotFoundError` when it is missing."""
        path = Path(self._original_config_file)
        if not path.is_file():
            raise ResourceConfigNotFoundError(
                f"ResourceConfig: No such file: {self._original_config_file!r} (looked for "
                f"{path.resolve()})"
            )
        return str(path.resolve())

    @property
    def name(self) -> str:
        if self.path_selector is None:
            return self._original_config_file
        return f"{self._original_config_file}.{self.path_selector}"

    def bind_type(self, annotated: Any, where: str) -> None:
        if not (isinstance(annotated, type) and issubclass(annotated, BaseModel)):
            raise WorkflowValidationError(
                f"{where}: ResourceConfig({self._original_config_file!r}) is annotated "
                f"{annotated!r}; it loads a pydantic model: Annotated[MyModel, ResourceConfig(...)]"
            )
        if self.cls_factory is not None and self.cls_factory is not annotated:
            raise WorkflowValidationError(
                f"{where}: one ResourceConfig({self._original_config_file!r}) is annotated "
                f"with two models, {self.cls_factory.__name__} and {annotated.__name__}; "
                "write a ResourceConfig for each"
            )
        self.cls_factory = annotated

    def load(self) -> BaseModel:
        """Read the file and validate the selected object into the model; each error
        names the file, the path and the field."""
        model = self.cls_factory
        if model is None:
            raise WorkflowValidationError(
                f"ResourceConfig({self._original_config_file!r}) was never told its model; "
                "use it in Annotated[MyModel, ResourceConfig(...)]"
            )
        import json  # loaded when a config is read, not at `import agentflow`

        config_file = self.config_file
        try:
            data = json.loads(Path(config_file).read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ResourceConfigError(f"{config_file} is not valid JSON: {error}") from error
        selected = _select(data, config_file, self.path_selector)
        try:
            return model.model_validate(selected)
        except ValidationError as error:
            at = f" at path {self.path_selector!r}" if self.path_selector else ""
            fields = "; ".join(
                f"field {'.'.join(map(str, problem['loc'])) or '(the object)'!r}: "
                f"{problem['msg']} (got {problem['input']!r})"
                for problem in error.errors()
            )
            raise ResourceConfigError(
                f"{config_file}{at} does not fit {model.__name__}: {fields}"
            ) from error

    async def make(self, arguments: dict[str, Any]) -> BaseModel:
        return self.load()

    def __repr__(self) -> str:
        return f"ResourceConfig({self.name!r})"


def _select(data: Any, config_file: str, path_selector: str | None) -> Any:
    if path_selector is None:
        return data
    walked: list[str] = []
    for key in path_selector.split("."):
        walked.append(key)
        found = data.get(key) if isinstance(data, dict) else None
        if not isinstance(found, dict):
            there = (
                f"keys there: {', '.join(map(repr, data)) or 'none'}"
                if isinstance(data, dict)
                else f"the file holds a {type(data).__name__}"
            )
            problem = "is missing" if found is None else f"holds a {type(found).__name__}"
            raise ResourceConfigError(
                f"Expected dictionary for configuration from {config_file} at path "
                f"{'.'.join(walked)}, got: {type(found)} (key {key!r} {problem}; {there})"
            )
        data = found
    return data
