"""Workflow programs written against LlamaIndex Workflows (`from workflows...`) whose graph
representation tests/agentflow/test_representation.py compares on both engines.

`load_program` writes a program to one real file and runs it there, once per engine, with
the import renamed: the reference reads a resource factory's file and line (and hashes them
into the resource node's id), so both engines must see the program at the same path.
"""

from __future__ import annotations

import linecache
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

REVIEW = '''
from typing import Annotated

from workflows import Context, Workflow, step
from workflows.events import (
    Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent,
)
from workflows.resource import Resource


class Database:
    pass


class Model:
    pass


def open_database() -> Database:
    """Connects to the review database."""
    return Database()


def make_model() -> Model:
    return Model()


class Drafted(Event):
    text: str
    round: int = 0


class Revise(Event):
    notes: list[str]


class AskEditor(InputRequiredEvent):
    question: str


class EditorReply(HumanResponseEvent):
    approved: bool


class Published(StopEvent):
    url: str


class Review(Workflow):
    """Drafts a text, loops on revisions, and asks an editor before publishing."""

    @step
    async def draft(
        self, ev: StartEvent, db: Annotated[Database, Resource(open_database)]
    ) -> Drafted:
        """Writes the first draft."""
        return Drafted(text=ev.topic)

    @step
    async def check(
        self,
        ev: Drafted | Revise,
        model: Annotated[Model, Resource(make_model, cache=False)],
    ) -> Revise | AskEditor | None:
        return AskEditor(question="publish?")

    @step
    async def decide(
        self, ctx: Context, ev: EditorReply, db: Annotated[Database, Resource(open_database)]
    ) -> Published | Revise:
        return Published(url="https://example.org")


@step(workflow=Review)
async def archive(ev: Revise) -> Drafted:
    """A free function step: drawn after the methods, as the reference lists them."""
    return Drafted(text=" ".join(ev.notes))
'''
"""Every kind of node the reference draws from a workflow class: steps (methods, a free
function), events (a branch, a loop, a custom StopEvent), the human round trip, and two
resources, one shared by two steps."""

WAITING = '''
from workflows import Context, Workflow, step
from workflows.events import (
    Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent,
)


class Question(InputRequiredEvent):
    text: str


class Answer(HumanResponseEvent):
    text: str


class Approval(Event):
    ok: bool


class Interview(Workflow):
    """Asks a question in the middle of a step, then waits for an approval too."""

    @step
    async def interview(self, ctx: Context, ev: StartEvent) -> StopEvent:
        answer = await ctx.wait_for_event(
            Answer, waiter_event=Question(text="name?"), waiter_id="name"
        )
        approval = await ctx.wait_for_event(event_type=Approval)
        return StopEvent(result=(answer.text, approval.ok))
'''
"""A step that waits in `ctx.wait_for_event` for a human's answer (asked with a
`waiter_event`) and for an event another party sends: nothing in its signature says so."""


def load_program(
    source: str, engine: str, path: Path, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    """`source` with `from workflows...` renamed `from <engine>...`, written to `path` and
    run as a module of its own (both engines resolve annotations through `sys.modules`)."""
    code = re.sub(r"^(from|import) workflows\b", rf"\1 {engine}", source, flags=re.MULTILINE)
    path.write_text(code, encoding="utf-8")
    linecache.checkcache(str(path))  # the other engine's copy may be cached at this path
    module = ModuleType(f"representation_program_{engine}")
    module.__file__ = str(path)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, str(path), "exec"), module.__dict__)
    return module


NESTED_RESOURCES = '''
import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel

from workflows import Workflow, step
from workflows.events import StartEvent, StopEvent
from workflows.resource import Resource, ResourceConfig


class Settings(BaseModel):
    url: str


class Pool:
    pass


class Repository:
    pass


def open_pool(
    settings: Annotated[Settings, ResourceConfig("settings.json", path_selector="db")],
) -> Pool:
    """One pool for the process."""
    return Pool()


def make_repository(pool: Annotated[Pool, Resource(open_pool)]) -> Repository:
    return Repository()


class Store(Workflow):
    """Resources that need resources, and a config read from a file."""

    @step
    async def save(
        self,
        ev: StartEvent,
        repository: Annotated[Repository, Resource(make_repository)],
        settings: Annotated[
            Settings,
            ResourceConfig(
                "settings.json", path_selector="db", label="DB settings", description="where"
            ),
        ],
    ) -> StopEvent:
        return StopEvent(result=settings.url)
'''
"""Factories taking resources (`make_repository` needs `open_pool`, which needs a config)
and a `ResourceConfig` a step takes too; run it where `settings.json` holds
`{"db": {"url": ...}}`."""
