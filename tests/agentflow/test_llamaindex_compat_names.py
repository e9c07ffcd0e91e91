"""The names LlamaIndex Workflows exports (workflow, context, handler, events, serializers,
testing, state), each checked by a program run on agentflow and on llama-index-workflows
2.26.1 (see test_llamaindex_compat.py for how a program runs on both engines)."""

from __future__ import annotations

import pytest
from compat_names_programs import (
    CONCURRENT_RUNS,
    DICT_STATE,
    FAILED_EVENT_ATTEMPTS,
    HANDLER_NAMES,
    INHERITED_STATE,
    INTERNAL_EVENTS,
    SERIALIZERS_FROM_CONTEXT,
    STEP_CONTEXT_AND_RUNNING_STEPS,
    TEST_RUNNER,
    WORKFLOW_NAMES,
)
from test_llamaindex_compat import ENGINES, run_program

PROGRAMS: dict[str, tuple[str, object]] = {
    "Workflow(workflow_name=...), start/stop event classes, events": (
        WORKFLOW_NAMES,
        (True, "named", "Ask", "Answer", ["Answer", "Ask", "Middle"], "42"),
    ),
    "Workflow(num_concurrent_runs=...) queues runs of one instance": (
        CONCURRENT_RUNS,
        (
            [True, True, True, True],
            ["start a", "start c", "end c"],
            ["start a", "start c", "end c", "end a", "start b", "end b"],
            ["a", "b"],
        ),
    ),
    "WorkflowHandler.is_done(), get_stop_event(), stop_event_result()": (
        HANDLER_NAMES,
        ((False, None), "StopEvent", "ok", (True, True, "ok"), "kaboom", True),
    ),
    "WorkflowFailedEvent.attempts and elapsed_seconds": (
        FAILED_EVENT_ATTEMPTS,
        ([("explode", 1, True), ("flaky", 3, True)], None),
    ),
    "Context.get_step_context(), running_steps(), stream_events()": (
        STEP_CONTEXT_AND_RUNNING_STEPS,
        (
            "WorkflowRuntimeError",
            ["work"],
            ["StepStateChanged", "Progress", "StepStateChanged", "StopEvent"],
            "Context",
        ),
    ),
    "DictState as a mapping": (
        DICT_STATE,
        (
            (
                (
                    1,
                    "x",
                    "default",
                    [("count", 1), ("name", "x")],
                    ["count", "name"],
                    True,
                    False,
                    2,
                    ["count", "name"],
                ),
                1,
                "x",
            ),
            1,
            2,
            [("a", 1)],
        ),
    ),
    "State types inherited by subclasses, the most derived one wins": (
        INHERITED_STATE,
        [("BaseState", 1), ("BaseState", 1), ("ChildState", 1, "child")],
    ),
    "JsonSerializer, PickleSerializer, BaseSerializer from workflows.context": (
        SERIALIZERS_FROM_CONTEXT,
        ([True, True], ["JsonSerializer", "PickleSerializer"]),
    ),
    "stream_events(expose_internal=True), StepStateChanged, StepState": (
        INTERNAL_EVENTS,
        (
            [
                ("first", "running", "StartEvent", None),
                ("first", "not_running", "StartEvent", "Middle"),
                ("second", "running", "Middle", None),
                ("second", "not_running", "Middle", "StopEvent"),
            ],
            ["StopEvent"],
            ["preparing", "running", "not_running"],
        ),
    ),
    "workflows.testing.runner: WorkflowTestResult, internal events counted": (
        TEST_RUNNER,
        (True, 1, 4, 0, ["StopEvent", "Tick"]),
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", list(PROGRAMS))
async def test_the_reference_names_work_after_renaming_the_import(
    name: str, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, expected = PROGRAMS[name]
    assert await run_program(source, engine, name, monkeypatch) == expected
