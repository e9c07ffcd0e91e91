"""`ResourceConfig`: a JSON file (or a path in it) loaded into the annotated model, and the
errors that name the file, the path and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ValidationError

from agentflow import Workflow, step
from agentflow.errors import (
    ResourceConfigError,
    ResourceConfigNotFoundError,
    WorkflowValidationError,
)
from agentflow.events import StartEvent, StopEvent
from agentflow.resource import Resource, ResourceConfig, ResourceManager


class Llm(BaseModel):
    model: str
    temperature: float = 0.0


class Retrieval(BaseModel):
    top_k: int
    sources: list[str]


def config_file(tmp_path: Path, data: Any, name: str = "settings.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def workflow_reading(config: ResourceConfig, model: type[BaseModel]) -> Workflow:
    """A workflow (a class of its own) whose one step, a free function added to it,
    returns the loaded config."""

    async def only(ev: StartEvent, config: Any) -> StopEvent:
        return StopEvent(result=config)

    only.__annotations__ = {
        "ev": StartEvent,
        "config": Annotated[model, config],  # type: ignore[valid-type]
        "return": StopEvent,
    }
    reads: type[Workflow] = type("Reads", (Workflow,), {})
    step(workflow=reads)(only)
    return reads()


async def test_the_whole_file_or_the_object_at_a_path_is_loaded_into_the_model(
    tmp_path: Path,
) -> None:
    path = config_file(
        tmp_path,
        {"top_k": 3, "sources": ["wiki"], "models": {"chat": {"model": "m", "temperature": 1}}},
    )
    whole = ResourceConfig(path, label="Retrieval", description="how many and where")
    assert await workflow_reading(whole, Retrieval).run() == Retrieval(top_k=3, sources=["wiki"])
    assert (whole.label, whole.description, whole.name) == ("Retrieval", "how many and where", path)
    nested = ResourceConfig(path, path_selector="models.chat")
    assert await workflow_reading(nested, Llm).run() == Llm(model="m", temperature=1.0)
    assert nested.name == f"{path}.models.chat"


def test_only_json_files_are_accepted() -> None:
    with pytest.raises(ResourceConfigError, match=r"ResourceConfig\('settings.yaml'\): Only JSON"):
        ResourceConfig("settings.yaml")


def loaded(config: ResourceConfig, model: type[BaseModel]) -> BaseModel:
    config.bind_type(model, "test")
    return config.load()


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.json")
    with pytest.raises(ResourceConfigNotFoundError, match=f"No such file: '{missing}'") as raised:
        loaded(ResourceConfig(missing), Llm)
    assert isinstance(raised.value, FileNotFoundError)


def test_a_missing_key_on_the_path_names_the_file_the_path_and_the_keys_there(
    tmp_path: Path,
) -> None:
    path = config_file(tmp_path, {"models": {"embed": {"model": "e"}}})
    with pytest.raises(ResourceConfigError) as raised:
        loaded(ResourceConfig(path, path_selector="models.chat"), Llm)
    assert str(raised.value) == (
        f"Expected dictionary for configuration from {path} at path models.chat, got: "
        "<class 'NoneType'> (key 'chat' is missing; keys there: 'embed')"
    )
    with pytest.raises(ResourceConfigError, match="key 'models' holds a list"):
        loaded(ResourceConfig(config_file(tmp_path, {"models": []}), path_selector="models"), Llm)


def test_a_model_error_names_the_file_the_path_and_each_field(tmp_path: Path) -> None:
    path = config_file(tmp_path, {"rag": {"top_k": "many", "sources": ["a", 7]}})
    with pytest.raises(ResourceConfigError) as raised:
        loaded(ResourceConfig(path, path_selector="rag"), Retrieval)
    message = str(raised.value)
    assert message.startswith(f"{path} at path 'rag' does not fit Retrieval: field 'top_k': ")
    assert "(got 'many')" in message
    assert "field 'sources.1': Input should be a valid string (got 7)" in message
    assert isinstance(raised.value.__cause__, ValidationError)


def test_a_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ResourceConfigError, match=f"{path} is not valid JSON: "):
        loaded(ResourceConfig(str(path)), Llm)


async def test_a_run_refuses_to_start_with_a_config_that_does_not_load(tmp_path: Path) -> None:
    path = config_file(tmp_path, {"model": 5})
    workflow = workflow_reading(ResourceConfig(path), Llm)
    with pytest.raises(WorkflowValidationError) as raised:
        workflow.run()
    assert str(raised.value).startswith(
        "Resource config validation failed:\n  - In step 'only', parameter 'config': "
        f"{path} does not fit Llm: field 'model': Input should be a valid string (got 5)"
    )


def test_a_config_annotated_with_something_other_than_a_model_is_refused(
    tmp_path: Path,
) -> None:
    # Refused when the workflow is made, before any run or `validate()`.
    with pytest.raises(WorkflowValidationError) as raised:
        workflow_reading(ResourceConfig(config_file(tmp_path, {})), int)  # type: ignore[arg-type]
    assert "step 'only' of Reads, parameter 'config': ResourceConfig(" in str(raised.value)
    assert "is annotated <class 'int'>; it loads a pydantic model" in str(raised.value)


async def test_a_factory_takes_a_config_and_it_is_kept_under_its_name(tmp_path: Path) -> None:
    path = config_file(tmp_path, {"chat": {"model": "m"}})

    def make_client(llm: Llm) -> str:
        return f"client for {llm.model}"

    # Set as an object: a string annotation could not name `path`, a local.
    make_client.__annotations__["llm"] = Annotated[Llm, ResourceConfig(path, path_selector="chat")]
    manager = ResourceManager()
    assert await manager.get(Resource(make_client)) == "client for m"
    assert manager.get_all()[f"{path}.chat"] == Llm(model="m")
