"""What a drawing shows, made from a workflow's graph model (`agentflow.representation`):
each node with its kind (which picks its shape and colours), an id every renderer can
use, its label and tooltip; each edge once, with its label and kind. The execution scene
is the same, each step with its run count from a handler and what the run never reached
marked so renderers can dim it. No graph is walked here: the model already is the graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from agentflow.representation import (
    EXTERNAL_NODE_ID,
    WAIT_EDGE_LABEL,
    WAITER_EDGE_LABEL,
    WorkflowEventNode,
    WorkflowExternalNode,
    WorkflowGraph,
    WorkflowGraphNode,
    WorkflowResourceConfigNode,
    WorkflowResourceNode,
    WorkflowStepNode,
    get_workflow_representation,
)
from agentflow.representation.build import workflow_class_of

NodeKind = Literal[
    "step", "event", "start", "stop", "input", "response", "external", "resource", "config", "other"
]
EdgeKind = Literal["flow", "resource", "wait"]

_TIMES = "\u00d7"
"""The multiplication sign of "step x3" labels, escaped so no linter mistakes it for x."""


@dataclass(slots=True)
class SceneNode:
    """A node as every renderer draws it."""

    id: str
    """Unique, Mermaid-safe: letters, digits and underscores only."""
    label: str
    """The model node's label."""
    kind: NodeKind
    """Picks the node's shape and colours."""
    tooltip: str
    """Longer text shown on hover."""
    executions: int | None = None
    """Execution scene only: how many times this step started."""
    ran: bool = True
    """False in the execution scene for what the run never reached: drawn dimmed."""

    def text(self, max_label_length: int | None) -> str:
        """The label as drawn: cut to `max_label_length` with an ellipsis, then followed by
        the run count in the execution scene."""
        label = self.label
        if max_label_length is not None and len(label) > max_label_length:
            label = label[: max(max_label_length - 1, 1)] + "…"
        if self.executions:
            label = f"{label} {_TIMES}{self.executions}"
        return label


@dataclass(frozen=True, slots=True)
class SceneEdge:
    """An arrow between two scene nodes."""

    source: str
    """Node id the arrow leaves."""
    target: str
    """Node id the arrow enters."""
    label: str | None = None
    """A resource's parameter name, or `wait_for_event` / `waiter_event` on a wait."""
    kind: EdgeKind = "flow"
    """Events flowing, a step (or factory) using a resource, or a step's wait."""
    ran: bool = True
    """False in the execution scene when either end was never reached."""


@dataclass(slots=True)
class Scene:
    """Every node and edge of one drawing, in the model's order."""

    workflow_name: str
    """The workflow class's name, for titles."""
    nodes: dict[str, SceneNode] = field(default_factory=dict)
    """Scene id -> node."""
    edges: list[SceneEdge] = field(default_factory=list)
    """Each (source, target, label) once."""
    step_ids: dict[str, str] = field(default_factory=dict)
    """Step name -> scene id."""


def flow_scene(workflow: object, caller: str) -> Scene:
    """Every flow `workflow` (a Workflow class or instance) could take, its resources and
    its steps' waits; a TypeError naming `caller` for anything else."""
    workflow_class = workflow_class_of(workflow, caller)
    return scene_of(get_workflow_representation(workflow_class, include_waits=True))


def scene_of(graph: WorkflowGraph) -> Scene:
    """The scene of any graph model, whether a workflow's or made by hand."""
    scene = Scene(workflow_name=graph.name)
    ids = _SceneIds()
    scene_ids: dict[str, str] = {}
    for node in graph.nodes:
        node_kind = _kind(node)
        scene_id = ids.new(node.id, node_kind)
        scene_ids[node.id] = scene_id
        scene.nodes[scene_id] = SceneNode(scene_id, node.label, node_kind, _tooltip(node))
        if node_kind == "step":
            scene.step_ids[node.id] = scene_id
    seen: set[tuple[str, str, str | None]] = set()
    for edge in graph.edges:
        source, target = scene_ids[edge.source], scene_ids[edge.target]
        if (source, target, edge.label) in seen:
            continue
        seen.add((source, target, edge.label))
        kind: EdgeKind = "flow"
        if edge.label in (WAIT_EDGE_LABEL, WAITER_EDGE_LABEL):
            kind = "wait"
        elif scene.nodes[target].kind in ("resource", "config"):
            kind = "resource"
        scene.edges.append(SceneEdge(source, target, edge.label, kind))
    return scene


def execution_scene(handler: object, caller: str) -> Scene:
    """The flow scene of the workflow behind `handler`, each step with how many times it
    started in that run; what the run never reached has `ran=False`. `handler` must be a
    WorkflowHandler, else a TypeError naming `caller`."""
    from agentflow.handler import WorkflowHandler

    if not isinstance(handler, WorkflowHandler):
        got = f"the class {handler.__qualname__}" if isinstance(handler, type) else None
        raise TypeError(
            f"{caller}() takes the WorkflowHandler that workflow.run() returned, got "
            f"{got or 'a ' + type(handler).__name__}"
        )
    scene = flow_scene(handler.ctx.workflow, caller)
    executions = handler.step_executions
    for name, scene_id in scene.step_ids.items():
        node = scene.nodes[scene_id]
        node.executions = executions.get(name, 0)
        node.ran = node.executions > 0
        node.tooltip = f"step {name}: started {node.executions} time(s) in this run"
    # Reached: what touches a step that ran; then the external party, when an event next
    # to it was; then a resource's own resources, when it was.
    reached = {node.id for node in scene.nodes.values() if node.kind == "step" and node.ran}
    for edge in scene.edges:
        for one, other in ((edge.source, edge.target), (edge.target, edge.source)):
            if scene.nodes[one].kind == "step" and scene.nodes[one].ran:
                reached.add(other)
    for edge in scene.edges:
        ends = {edge.source, edge.target}
        if EXTERNAL_NODE_ID in ends and ends - {EXTERNAL_NODE_ID} <= reached:
            reached.add(EXTERNAL_NODE_ID)
    needs = [(e.source, e.target) for e in scene.edges if e.kind == "resource"]
    while grown := {target for source, target in needs if source in reached} - reached:
        reached |= grown  # down chains of resources needing resources, however listed
    for node in scene.nodes.values():
        if node.kind != "step":
            node.ran = node.id in reached
    scene.edges = [
        SceneEdge(
            e.source,
            e.target,
            e.label,
            e.kind,
            scene.nodes[e.source].ran and scene.nodes[e.target].ran,
        )
        for e in scene.edges
    ]
    return scene


def _kind(node: WorkflowGraphNode) -> NodeKind:
    if isinstance(node, WorkflowStepNode):
        return "step"
    if isinstance(node, WorkflowEventNode):
        for base, kind in _EVENT_KINDS:
            if node.is_subclass_of(base):
                return kind
        return "event"
    if isinstance(node, WorkflowExternalNode):
        return "external"
    if isinstance(node, WorkflowResourceNode):
        return "resource"
    if isinstance(node, WorkflowResourceConfigNode):
        return "config"
    return "other"


_EVENT_KINDS: tuple[tuple[str, NodeKind], ...] = (
    ("StopEvent", "stop"),
    ("StartEvent", "start"),
    ("InputRequiredEvent", "input"),
    ("HumanResponseEvent", "response"),
)


def _tooltip(node: WorkflowGraphNode) -> str:
    if isinstance(node, WorkflowStepNode):
        return f"step {node.id}" + (f": {node.description}" if node.description else "")
    if isinstance(node, WorkflowEventNode):
        producers = ", ".join(node.produced_by)
        return " < ".join(node.event_types) + (f", returned by {producers}" if producers else "")
    if isinstance(node, WorkflowExternalNode):
        return (
            "outside the run: reads InputRequiredEvents from the stream and answers with "
            "handler.ctx.send_event(HumanResponseEvent(...))"
        )
    if isinstance(node, WorkflowResourceNode):
        where = f" ({node.source_file}:{node.source_line})" if node.source_file else ""
        return f"resource made by {node.getter_name}{where}"
    if isinstance(node, WorkflowResourceConfigNode):
        selector = f" at {node.path_selector}" if node.path_selector else ""
        return f"config read from {node.config_file}{selector}"
    return f"{node.node_type} {node.label}"


class _SceneIds:
    """Hands out distinct Mermaid-safe ids: a model id may hold characters (spaces,
    quotes, `<`, the dots of a qualified name) or words (`end`) that Mermaid cannot take."""

    _PREFIXES: ClassVar[dict[NodeKind, str]] = {
        "step": "step_",
        "external": "",
        "resource": "",
        "config": "node_",
        "other": "node_",
    }
    """Events get `event_`; the external party and resources keep their model ids."""

    def __init__(self) -> None:
        self._used: set[str] = {"end"}  # a bare `end` closes a Mermaid subgraph

    def new(self, model_id: str, kind: NodeKind) -> str:
        prefix = self._PREFIXES.get(kind, "event_")
        base = prefix + (re.sub(r"[^A-Za-z0-9_]", "_", model_id) or "_")
        candidate, suffix = base, 2
        while candidate in self._used:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        self._used.add(candidate)
        return candidate
