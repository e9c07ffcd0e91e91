"""`Workflow[ResultT]` and `WorkflowHandler[ResultT]`: mypy sees what `await run()` gives,
and a subscripted workflow class runs as any other.

The type checks run mypy (its API, in this process) on `typed_results.py`, with the
project's configuration and the shared cache under `.mypy_cache`, so a run after the first
re-checks only what changed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from mypy import api as mypy_api

from agentflow import Context, Workflow, step
from agentflow.errors import WorkflowValidationError
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent

ROOT = Path(__file__).resolve().parents[2]
CHECKED = Path(__file__).with_name("typed_results.py")
_MESSAGE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): (?P<kind>note|error): (?P<text>.*)$")
_EXPECTATION = re.compile(r"^\s*# (?P<kind>reveals|error): (?P<value>.+?)\s*$")


def _expectations() -> dict[int, tuple[str, str]]:
    """Line number -> ("reveals", type) or ("error", code), for the line after each marker."""
    lines = CHECKED.read_text().splitlines()
    found = {}
    for number, line in enumerate(lines, start=1):
        match = _EXPECTATION.match(line)
        if match:
            found[number + 1] = (match["kind"], match["value"])
    return found


@pytest.fixture(scope="module")
def mypy_messages() -> dict[int, list[tuple[str, str]]]:
    """mypy's notes and errors on the checked file, by line."""
    stdout, stderr, _ = mypy_api.run(
        [
            str(CHECKED),
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--no-error-summary",
            "--show-error-codes",
            "--hide-error-context",
        ]
    )
    assert not stderr, stderr
    messages: dict[int, list[tuple[str, str]]] = {}
    for line in stdout.splitlines():
        match = _MESSAGE.match(line)
        assert match, f"unexpected mypy output: {line}"
        assert Path(match["path"]).resolve() == CHECKED, line
        messages.setdefault(int(match["line"]), []).append((match["kind"], match["text"]))
    return messages


# With a cold cache (a fresh checkout) mypy first reads pydantic and the openai SDK: about
# half a minute, more on a busy machine; with the cache warm, about a second.
MYPY_TIMEOUT = pytest.mark.timeout(240)


@MYPY_TIMEOUT
def test_mypy_reveals_the_result_type_of_each_workflow(
    mypy_messages: dict[int, list[tuple[str, str]]],
) -> None:
    reveals = {line: value for line, (kind, value) in _expectations().items() if kind == "reveals"}
    assert len(reveals) >= 10, "the markers of typed_results.py were not read"
    seen = {
        line: [text for kind, text in mypy_messages.get(line, []) if kind == "note"]
        for line in reveals
    }
    assert seen == {line: [f'Revealed type is "{value}"'] for line, value in reveals.items()}


@MYPY_TIMEOUT
def test_mypy_reports_a_wrong_result_type_and_nothing_else(
    mypy_messages: dict[int, list[tuple[str, str]]],
) -> None:
    wanted = {line: value for line, (kind, value) in _expectations().items() if kind == "error"}
    errors = {
        line: [text for kind, text in messages if kind == "error"]
        for line, messages in mypy_messages.items()
    }
    errors = {line: texts for line, texts in errors.items() if texts}
    assert set(errors) == set(wanted), errors
    for line, code in wanted.items():
        [text] = errors[line]
        assert text.endswith(f"[{code}]"), text
        assert '"str"' in text, text  # the declared result type, seen through the handler


class Named(Event):
    name: str


class Greeting(Workflow[str]):
    """Asks for a name, then greets it: a result type declared, and a wait to save."""

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> Named:
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        return Named(name=answer.response)

    @step
    async def greet(self, ev: Named) -> StopEvent:
        return StopEvent(result=f"hello {ev.name}")


class LoudGreeting(Greeting):
    """Inherits the steps and the result type; overrides one step undecorated."""

    async def greet(self, ev: Named) -> StopEvent:  # type: ignore[override]
        return StopEvent(result=f"HELLO {ev.name.upper()}")


async def _answer(handler: Any, name: str | None) -> None:
    """Answers the question with `name`, or on None saves nothing and cancels the run."""
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            if name is None:
                await handler.cancel_run()
            else:
                handler.ctx.send_event(HumanResponseEvent(response=name))


async def test_a_workflow_with_a_declared_result_type_runs_as_any_other() -> None:
    handler = Greeting().run()
    await _answer(handler, "Ada")
    assert await handler == "hello Ada"
    assert list(Greeting._step_table().steps) == ["ask", "greet"]


async def test_a_subclass_of_a_typed_workflow_keeps_its_steps_and_overrides() -> None:
    handler = LoudGreeting().run()
    await _answer(handler, "Ada")
    assert await handler == "HELLO ADA"


async def test_a_subscripted_workflow_class_makes_the_same_workflow() -> None:
    # Made as Workflow itself, so refused for having no steps, as Workflow() is.
    with pytest.raises(WorkflowValidationError, match="workflow Workflow has no steps"):
        Workflow[str]()


async def test_a_typed_workflow_saved_mid_run_resumes_by_its_class_name() -> None:
    first = Greeting(timeout=None).run()
    await _answer(first, None)
    saved = json.loads(json.dumps(first.ctx.to_dict()))
    assert saved["workflow"] == "Greeting"

    workflow = Greeting(timeout=None)
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    await _answer(resumed, "Grace")
    assert await resumed == "hello Grace"


async def test_a_step_added_to_a_typed_workflow_joins_its_graph() -> None:
    class Relay(Workflow[int]):
        @step
        async def start(self, ev: StartEvent) -> Named:
            return Named(name="x")

    @step(workflow=Relay)
    async def finish(ev: Named) -> StopEvent:
        return StopEvent(result=len(ev.name))

    assert await Relay().run() == 1
