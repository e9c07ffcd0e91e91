"""agentflow.drawing.graph: the steps, events and edges of a workflow, apart from any
rendering; and the renderers drawing a graph that no workflow made."""

from __future__ import annotations

from agentflow import Workflow, step
from agentflow.drawing import EXTERNAL_NODE_ID, draw_all_possible_flows_mermaid
from agentflow.drawing.graph import (
    GraphEdge,
    GraphNode,
    WorkflowGraph,
    execution_graph,
    flow_graph,
)
from agentflow.drawing.mermaid import render_mermaid
from agentflow.drawing.page import render_page
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent


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


def labelled_edges(graph: WorkflowGraph) -> set[tuple[str, str, bool]]:
    return {
        (graph.nodes[edge.source].label, graph.nodes[edge.target].label, edge.ran)
        for edge in graph.edges
    }


def test_the_flow_graph_has_a_node_of_the_right_kind_per_step_and_event_type() -> None:
    graph = flow_graph(ReviewFlow)
    assert graph.workflow_name == "ReviewFlow"
    assert {(node.label, node.kind) for node in graph.nodes.values()} == {
        ("write", "step"),
        ("publish", "step"),
        ("StartEvent", "start"),
        ("Reply", "response"),
        ("Draft", "event"),
        ("Question", "input"),
        ("StopEvent", "stop"),
        ("external", "external"),
    }
    assert {name: graph.nodes[node_id].label for name, node_id in graph.step_ids.items()} == {
        "write": "write",
        "publish": "publish",
    }
    assert graph.nodes[EXTERNAL_NODE_ID].kind == "external"


def test_the_flow_graph_links_events_to_steps_and_the_human_round_trip() -> None:
    assert labelled_edges(flow_graph(ReviewFlow)) == {
        ("StartEvent", "write", True),
        ("Reply", "write", True),
        ("write", "Draft", True),
        ("write", "Question", True),
        ("Draft", "publish", True),
        ("publish", "StopEvent", True),
        ("Question", "external", True),
        ("external", "Reply", True),
    }


async def test_the_execution_graph_counts_runs_and_marks_what_was_never_reached() -> None:
    handler = ReviewFlow().run()
    assert await handler == "first"
    graph = execution_graph(handler, "test")
    ran = {node.label: (node.executions, node.ran) for node in graph.nodes.values()}
    assert ran == {
        "write": (1, True),
        "publish": (1, True),
        "StartEvent": (None, True),
        "Reply": (None, True),
        "Draft": (None, True),
        "Question": (None, True),
        "StopEvent": (None, True),
        "external": (None, True),
    }
    assert all(edge.ran for edge in graph.edges)


def handmade_graph() -> WorkflowGraph:
    graph = WorkflowGraph(workflow_name="Handmade")
    graph.nodes["a"] = GraphNode("a", "StartEvent", "start", "start here")
    graph.nodes["b"] = GraphNode("b", "only_step", "step", "step only_step", executions=0)
    graph.nodes["b"].ran = False
    graph.step_ids["only_step"] = "b"
    graph.edges.append(GraphEdge("a", "b", ran=False))
    return graph


def test_the_mermaid_renderer_draws_any_graph_not_only_a_workflow_s() -> None:
    assert render_mermaid(handmade_graph(), max_label_length=None).splitlines()[:5] == [
        "flowchart TD",
        "    %% Handmade",
        '    a(["StartEvent"]):::startEventStyle',
        '    b["only_step"]:::notRunStyle',
        "    a -.-> b",
    ]


def test_the_page_renderer_draws_any_graph_not_only_a_workflow_s() -> None:
    page = render_page(handmade_graph(), "by hand", max_label_length=None)
    assert "<h1>Handmade: by hand</h1>" in page
    assert '<g class="node step not-run" data-id="b" data-executions="0" opacity="0.6">' in page
    assert '<path class="edge" data-source="a" data-target="b"' in page


def test_the_drawing_functions_render_the_graph_model() -> None:
    assert draw_all_possible_flows_mermaid(ReviewFlow) == render_mermaid(
        flow_graph(ReviewFlow), None
    )
