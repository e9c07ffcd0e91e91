"""agentflow.drawing.scene: the graph model as renderers need it (kinds, safe ids, run
counts), apart from any rendering; and the renderers drawing a scene no workflow made."""

from __future__ import annotations

from typing import Annotated, Any

from agentflow import Workflow, step
from agentflow.drawing import EXTERNAL_NODE_ID, draw_all_possible_flows_mermaid
from agentflow.drawing.mermaid import render_mermaid
from agentflow.drawing.page import render_page
from agentflow.drawing.scene import (
    Scene,
    SceneEdge,
    SceneNode,
    execution_scene,
    flow_scene,
    scene_of,
)
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agentflow.representation import WorkflowGraph, get_workflow_representation
from agentflow.resource import Resource


class Draft(Event):
    text: str


class Question(InputRequiredEvent):
    pass


class Reply(HumanResponseEvent):
    pass


class ReviewFlow(Workflow):
    @step
    async def write(self, ev: StartEvent | Reply) -> Draft | Question:
        return Draft(text="first")

    @step
    async def publish(self, ev: Draft) -> StopEvent:
        return StopEvent(result=ev.text)


def labelled_edges(scene: Scene) -> set[tuple[str, str, bool]]:
    return {
        (scene.nodes[edge.source].label, scene.nodes[edge.target].label, edge.ran)
        for edge in scene.edges
    }


def test_the_scene_has_a_node_of_the_right_kind_per_model_node() -> None:
    scene = flow_scene(ReviewFlow, "test")
    assert scene.workflow_name == "ReviewFlow"
    assert {(node.label, node.kind) for node in scene.nodes.values()} == {
        ("write", "step"),
        ("publish", "step"),
        ("StartEvent", "start"),
        ("Reply", "response"),
        ("Draft", "event"),
        ("Question", "input"),
        ("StopEvent", "stop"),
        ("external_step", "external"),
    }
    assert {name: scene.nodes[node_id].label for name, node_id in scene.step_ids.items()} == {
        "write": "write",
        "publish": "publish",
    }
    assert scene.nodes[EXTERNAL_NODE_ID].kind == "external"


def test_the_scene_has_the_model_s_edges_once_each() -> None:
    model = get_workflow_representation(ReviewFlow)
    assert (
        labelled_edges(flow_scene(ReviewFlow, "test"))
        == {(edge.source, edge.target, True) for edge in model.edges}
        == {
            ("StartEvent", "write", True),
            ("Reply", "write", True),
            ("write", "Draft", True),
            ("write", "Question", True),
            ("Draft", "publish", True),
            ("publish", "StopEvent", True),
            ("Question", "external_step", True),
            ("external_step", "Reply", True),
        }
    )


def test_a_model_edge_given_twice_is_drawn_once() -> None:
    model = get_workflow_representation(ReviewFlow)
    doubled = model.model_copy(update={"edges": model.edges + model.edges})
    assert scene_of(doubled).edges == scene_of(model).edges


def test_any_model_graph_is_drawn_even_kinds_no_workflow_makes() -> None:
    model = WorkflowGraph.model_validate(
        {
            "name": "Agents",
            "nodes": [
                {"id": "end", "label": "end", "node_type": "step"},
                {"id": "a.b", "label": "settings", "node_type": "resource_config"},
                {"id": "helper", "label": "helper", "node_type": "tool"},
            ],
            "edges": [
                {"source": "end", "target": "a.b", "label": "config"},
                {"source": "end", "target": "helper"},
            ],
        }
    )
    scene = scene_of(model)
    assert [(node.id, node.kind) for node in scene.nodes.values()] == [
        ("step_end", "step"),
        ("node_a_b", "config"),
        ("node_helper", "other"),
    ]
    assert [(e.source, e.target, e.label, e.kind) for e in scene.edges] == [
        ("step_end", "node_a_b", "config", "resource"),
        ("step_end", "node_helper", None, "flow"),
    ]
    text = render_mermaid(scene, None)
    assert '    node_a_b[/"settings"\\]:::configStyle' in text
    assert '    step_end -->|"config"| node_a_b' in text
    assert "node_helper" in render_page(scene, "by hand", None)


async def test_the_execution_scene_counts_runs_and_marks_what_was_never_reached() -> None:
    handler = ReviewFlow().run()
    assert await handler == "first"
    scene = execution_scene(handler, "test")
    ran = {node.label: (node.executions, node.ran) for node in scene.nodes.values()}
    assert ran == {
        "write": (1, True),
        "publish": (1, True),
        "StartEvent": (None, True),
        "Reply": (None, True),
        "Draft": (None, True),
        "Question": (None, True),
        "StopEvent": (None, True),
        "external_step": (None, True),
    }
    assert all(edge.ran for edge in scene.edges)


def handmade_scene() -> Scene:
    scene = Scene(workflow_name="Handmade")
    scene.nodes["a"] = SceneNode("a", "StartEvent", "start", "start here")
    scene.nodes["b"] = SceneNode("b", "only_step", "step", "step only_step", executions=0)
    scene.nodes["b"].ran = False
    scene.step_ids["only_step"] = "b"
    scene.edges.append(SceneEdge("a", "b", ran=False))
    return scene


def test_the_mermaid_renderer_draws_any_scene_not_only_a_workflow_s() -> None:
    assert render_mermaid(handmade_scene(), max_label_length=None).splitlines()[:5] == [
        "flowchart TD",
        "    %% Handmade",
        '    a(["StartEvent"]):::startEventStyle',
        '    b["only_step"]:::notRunStyle',
        "    a -.-> b",
    ]


def test_the_page_renderer_draws_any_scene_not_only_a_workflow_s() -> None:
    page = render_page(handmade_scene(), "by hand", max_label_length=None)
    assert "<h1>Handmade: by hand</h1>" in page
    assert '<g class="node step not-run" data-id="b" data-executions="0" opacity="0.6">' in page
    assert '<path class="edge" data-source="a" data-target="b" data-kind="flow"' in page


def test_the_drawing_functions_render_the_model_with_waits() -> None:
    model = get_workflow_representation(ReviewFlow, include_waits=True)
    assert draw_all_possible_flows_mermaid(ReviewFlow) == render_mermaid(scene_of(model), None)


class Needs(Resource[Any]):
    """A resource whose factory takes another one, listed by `dependencies()`."""

    def __init__(self, factory: Any, parameter: str, needed: Resource[Any]) -> None:
        super().__init__(factory)
        self.needed = (parameter, needed)

    def dependencies(self) -> list[tuple[str, Resource[Any]]]:
        return [self.needed]


def make_clock() -> str:
    return "clock"


CLOCK = Resource(make_clock)


def make_calendar(clock: Annotated[str, CLOCK] = "clock") -> str:
    return f"calendar({clock})"


CALENDAR = Needs(make_calendar, "clock", CLOCK)


def make_planner(calendar: Annotated[str, CALENDAR] = "calendar") -> str:
    return f"planner({calendar})"


class Planning(Workflow):
    @step
    async def plan(
        self, ev: StartEvent, planner: Annotated[str, Needs(make_planner, "calendar", CALENDAR)]
    ) -> StopEvent:
        return StopEvent(result=planner)


async def test_the_resources_a_used_resource_needs_are_reached_however_deep() -> None:
    handler = Planning().run()
    await handler
    scene = execution_scene(handler, "test")
    resources = [node for node in scene.nodes.values() if node.kind == "resource"]
    assert [node.tooltip.split()[3] for node in resources] == [
        "make_planner",
        "make_calendar",
        "make_clock",
    ]
    assert [node.ran for node in resources] == [True, True, True]
    assert all(edge.ran for edge in scene.edges)
