"""Programs about resources written for LlamaIndex Workflows, run by test_resource_compat.py
on it and, with the import renamed, on agentflow (the same shape as compat_programs.py)."""

from __future__ import annotations

CACHED_ACROSS_RUNS = """
from typing import Annotated
from workflows import Workflow, step
from workflows.events import Event, StartEvent, StopEvent
from workflows.resource import Resource

made = {"connection": 0, "cursor": 0}

class Connection:
    def __init__(self):
        made["connection"] += 1
        self.queries = []

def connect():
    return Connection()

def open_cursor():
    made["cursor"] += 1
    return object()

class Looked(Event):
    pass

class Lookup(Workflow):
    @step
    async def look(
        self,
        ev: StartEvent,
        db: Annotated[Connection, Resource(connect)],
        cursor: Annotated[object, Resource(open_cursor, cache=False)],
    ) -> Looked:
        db.queries.append(ev.query)
        return Looked()

    @step
    async def answer(
        self,
        ev: Looked,
        db: Annotated[Connection, Resource(connect)],
        cursor: Annotated[object, Resource(open_cursor, cache=False)],
    ) -> StopEvent:
        return StopEvent(result=list(db.queries))

async def main():
    lookup = Lookup()
    first = await lookup.run(query="a")
    second = await lookup.run(query="b")
    after_two_runs = dict(made)
    other = await Lookup().run(query="c")
    return [first, second, after_two_runs, other, made]
"""

NESTED_FACTORIES = """
import json, tempfile
from pathlib import Path
from typing import Annotated
from pydantic import BaseModel
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent
from workflows.resource import Resource, ResourceConfig

folder = Path(tempfile.mkdtemp())
(folder / "settings.json").write_text(json.dumps({"db": {"primary": {"url": "sqlite://x"}}}))
SETTINGS = str(folder / "settings.json")

class DbSettings(BaseModel):
    url: str

calls = []

def make_tracer():
    calls.append("tracer")
    return {"spans": []}

def make_pool(
    settings: Annotated[DbSettings, ResourceConfig(SETTINGS, path_selector="db.primary")],
    tracer: Annotated[dict, Resource(make_tracer, cache=False)],
):
    calls.append("pool")
    return {"url": settings.url, "tracer": tracer}

def make_repo(
    pool: Annotated[dict, Resource(make_pool)],
    tracer: Annotated[dict, Resource(make_tracer, cache=False)],
):
    calls.append("repo")
    return {"pool": pool, "tracer": tracer}

class Repos(Workflow):
    @step
    async def only(
        self,
        ev: StartEvent,
        repo: Annotated[dict, Resource(make_repo)],
        tracer: Annotated[dict, Resource(make_tracer, cache=False)],
    ) -> StopEvent:
        return StopEvent(
            result=[
                repo["pool"]["url"],
                repo["tracer"] is repo["pool"]["tracer"],
                tracer is repo["tracer"],
            ]
        )

async def main():
    repos = Repos()
    first = await repos.run()
    second = await repos.run()
    return [first, second, calls]
"""

DEPENDENCY_CYCLE = """
from __future__ import annotations
from typing import Annotated
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent
from workflows.resource import Resource

def make_a(b: Annotated[object, Resource(make_b)]):
    return "a"

def make_b(a: Annotated[object, Resource(make_a)]):
    return "b"

class Cycle(Workflow):
    @step
    async def only(self, ev: StartEvent, a: Annotated[object, Resource(make_a)]) -> StopEvent:
        return StopEvent(result=a)

async def main():
    try:
        await Cycle().run()
    except ValueError as error:
        return "Circular resource dependency detected: make_a -> make_b -> make_a" in str(error)
"""

RESOURCE_CONFIG = """
import json, tempfile
from pathlib import Path
from typing import Annotated
from pydantic import BaseModel
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent
from workflows.resource import ResourceConfig

folder = Path(tempfile.mkdtemp())
(folder / "classifier.json").write_text(
    json.dumps({"categories": ["spam", "ham"], "threshold": 0.5, "llm": {"model": "m1"}})
)
CLASSIFIER = str(folder / "classifier.json")

class ClassifierConfig(BaseModel):
    categories: list[str]
    threshold: float

class LlmConfig(BaseModel):
    model: str

config = ResourceConfig(CLASSIFIER, label="Classifier", description="Categories and threshold")

class Classify(Workflow):
    @step
    async def classify(
        self,
        ev: StartEvent,
        settings: Annotated[ClassifierConfig, config],
        llm: Annotated[LlmConfig, ResourceConfig(CLASSIFIER, path_selector="llm")],
    ) -> StopEvent:
        return StopEvent(result=[settings.categories, settings.threshold, llm.model])

async def main():
    return [await Classify().run(), config.label, config.description, config.path_selector]
"""

RESOURCE_MANAGER = """
from typing import Annotated
from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent
from workflows.resource import Resource, ResourceManager

def make_client():
    return "real client"

class Client(Workflow):
    @step
    async def only(
        self, ev: StartEvent, client: Annotated[str, Resource(make_client)]
    ) -> StopEvent:
        return StopEvent(result=client)

async def main():
    manager = ResourceManager()
    await manager.set("make_client", "fake client")
    preset = await Client(resource_manager=manager).run()
    shared = ResourceManager()
    made = await Client(resource_manager=shared).run()
    return [preset, made, shared.get_all(), await shared.get(Resource(make_client))]
"""

VALIDATE = """
import asyncio, json, tempfile
from pathlib import Path
from typing import Annotated
from pydantic import BaseModel
from workflows import Workflow, catch_error, step
from workflows.errors import WorkflowValidationError
from workflows.events import (
    Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StepFailedEvent, StopEvent,
)
from workflows.resource import Resource, ResourceConfig

folder = Path(tempfile.mkdtemp())
(folder / "bad.json").write_text(json.dumps({"threshold": "high"}))
BAD = str(folder / "bad.json")

class Settings(BaseModel):
    threshold: float

class Plain(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

class Asks(Workflow):
    @step
    async def ask(self, ev: StartEvent) -> InputRequiredEvent:
        return InputRequiredEvent()

    @step
    async def answer(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent()

class BadConfig(Workflow):
    @step
    async def only(self, ev: StartEvent, s: Annotated[Settings, ResourceConfig(BAD)]) -> StopEvent:
        return StopEvent()

def broken():
    raise ConnectionError("no database")

class BrokenFactory(Workflow):
    @step
    async def only(self, ev: StartEvent, db: Annotated[object, Resource(broken)]) -> StopEvent:
        return StopEvent()

class Orphan(Event):
    pass

class Unconsumed(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent | Orphan:
        return StopEvent()

class TwoWildcards(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

    @catch_error
    async def one(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

    @catch_error
    async def two(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

class UnknownScope(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent()

    @catch_error(for_steps=["nope"])
    async def handler(self, ev: StepFailedEvent) -> StopEvent:
        return StopEvent()

def failure(call):
    try:
        call()
    except WorkflowValidationError as error:
        return str(error)
    return "no error"

async def main():
    bad_config = failure(BadConfig().validate)
    broken = await asyncio.to_thread(
        failure, lambda: BrokenFactory().validate(validate_resources=True)
    )
    return [
        Plain().validate(),
        Asks().validate(),
        bad_config.startswith("Resource config validation failed:"),
        "In step 'only', parameter 's'" in bad_config,
        BadConfig().validate(validate_resource_configs=False),
        BrokenFactory().validate(),
        broken.startswith("Resource validation failed:"),
        "In step 'only', parameter 'db'" in broken and "no database" in broken,
        failure(Unconsumed().validate) != "no error",
        failure(TwoWildcards().validate) != "no error",
        "nope" in failure(UnknownScope().validate),
    ]
"""


PROGRAMS: dict[str, tuple[str, object]] = {
    # what the program shows: (source, outcome on both engines)
    "a cached resource is made once per workflow instance, across its runs": (
        CACHED_ACROSS_RUNS,
        [["a"], ["a", "b"], {"connection": 1, "cursor": 4}, ["c"], {"connection": 2, "cursor": 6}],
    ),
    "factories take resources and configs; an uncached one is shared within one step": (
        NESTED_FACTORIES,
        [
            ["sqlite://x", True, True],
            ["sqlite://x", True, False],
            ["tracer", "pool", "repo", "tracer"],
        ],
    ),
    "a dependency cycle fails the run with a ValueError naming it": (DEPENDENCY_CYCLE, True),
    "ResourceConfig loads a JSON file, or a path in it, into the annotated model": (
        RESOURCE_CONFIG,
        [[["spam", "ham"], 0.5, "m1"], "Classifier", "Categories and threshold", None],
    ),
    "a ResourceManager given to the workflow: preset values, get_all, get": (
        RESOURCE_MANAGER,
        ["fake client", "real client", {"make_client": "real client"}, "real client"],
    ),
    "Workflow.validate: its options, result and errors": (
        VALIDATE,
        [False, True, True, True, False, False, True, True, True, True, True],
    ),
}
