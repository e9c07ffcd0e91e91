"""The graph a drawing shows, built from a workflow class's step table; no rendering here.

A node per step and per event type, an edge from an event type to each step it is routed to
(subclasses included, as the runtime routes them) and from a step to each event type its
return annotation names. A step returning an `InputRequiredEvent` and one accepting a
`HumanResponseEvent` meet at an "external" node: the caller who answers. The execution
graph is the same graph with each step's run count from a handler, and what the run never
reached marked so renderers can dim it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agentflow.runtime.step_table import step_table_of

if TYPE_CHECKING:
    from agentflow.workflow import Workflow

NodeKind = Literal["step", "event", "start", "stop", "input", "response", "external"]

EXTERNAL_NODE_ID = "external_step"
"""Mermaid id of the node standing for whoever answers InputRequiredEvents (as upstream)."""

_TIMES = "\u00d7"
"""The multiplication sign of "step x3" labels, escaped so no linter mistakes it for x."""


@dataclass(slots=True)
class GraphNode:
    """A step, an event type or the external caller, as every renderer draws it."""

    id: str
    """Unique, Mermaid-safe: letters, digits and underscores only."""
    label: str
    """The step's name or the event class's name (its full name when two classes share one)."""
    kind: NodeKind
    """Picks the node's shape and colours."""
    tooltip: str
    """Longer text shown on hover."""
    executions: int | None = None
    """Execution view only: how many times this step started."""
    ran: bool = True
    """False in the execution view for what the run never reached: drawn dimmed."""

    def text(self, max_label_length: int | None) -> str:
        """The label as drawn: cut to `max_label_length` with an ellipsis, then followed by
        the run count in the execution view."""
        label = self.label
        if max_label_length is not None and len(label) > max_label_length:
            label = label[: max(max_label_length - 1, 1)] + "…"
        if self.executions:
            label = f"{label} {_TIMES}{self.executions}"
        return label


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """An event type reaching a step, or a step emitting an event type."""

    source: str
    """Node id the arrow leaves."""
    target: str
    """Node id the arrow enters."""
    ran: bool = True
    """False in the execution view when either end was never reached."""


@dataclass(slots=True)
class WorkflowGraph:
    """Every node and edge of one workflow's drawing, in a stable order."""

    workflow_name: str
    """The workflow class's name, for titles."""
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    """Node id -> node, in the order steps and events were met in the step table."""
    edges: list[GraphEdge] = field(default_factory=list)
    """Each (source, target) pair once."""
    step_ids: dict[str, str] = field(default_factory=dict)
    """Step name -> node id."""


def workflow_class_of(workflow: object, caller: str) -> type[Workflow]:
    """`workflow` itself when it is a Workflow subclass, its class when it is an instance;
    anything else is a TypeError naming `caller` and what it got."""
    from agentflow.workflow import Workflow

    if isinstance(workflow, Workflow):
        return type(workflow)
    if isinstance(workflow, type) and issubclass(workflow, Workflow):
        return workflow
    raise TypeError(f"{caller}() takes a Workflow subclass or instance, got {_describe(workflow)}")


def flow_graph(workflow_class: type[Workflow]) -> WorkflowGraph:
    """Every flow `workflow_class` could take."""
    table = step_table_of(workflow_class)
    graph = WorkflowGraph(workflow_name=workflow_class.__name__)
    ids = _NodeIds()

    event_types: list[type[Event]] = []
    for spec in table.steps.values():
        for event_type in (*spec.accepted, *spec.emitted):
            if event_type not in event_types:
                event_types.append(event_type)
    names = [event_type.__name__ for event_type in event_types]
    event_ids: dict[type[Event], str] = {}

    def add_event(event_type: type[Event]) -> None:
        if event_type in event_ids:
            return
        qualified = f"{event_type.__module__}.{event_type.__qualname__}"
        # Two classes with one name (from two modules) get their full names as labels.
        label = qualified if names.count(event_type.__name__) > 1 else event_type.__name__
        node_id = ids.new("event_", event_type.__name__)
        event_ids[event_type] = node_id
        graph.nodes[node_id] = GraphNode(node_id, label, _event_kind(event_type), qualified)

    for spec in table.steps.values():
        for event_type in spec.accepted:
            add_event(event_type)
        node_id = ids.new("step_", spec.name)
        graph.step_ids[spec.name] = node_id
        graph.nodes[node_id] = GraphNode(node_id, spec.name, "step", f"step {spec.name}")
        for event_type in spec.emitted:
            add_event(event_type)

    emits_input = any(
        issubclass(t, InputRequiredEvent) for s in table.steps.values() for t in s.emitted
    )
    accepts_response = any(
        issubclass(t, HumanResponseEvent) for s in table.steps.values() for t in s.accepted
    )
    if emits_input or accepts_response:
        graph.nodes[EXTERNAL_NODE_ID] = GraphNode(
            EXTERNAL_NODE_ID,
            "external",
            "external",
            "outside the run: reads InputRequiredEvents from the stream and answers with "
            "handler.ctx.send_event(HumanResponseEvent(...))",
        )

    seen: set[tuple[str, str]] = set()

    def add_edge(source: str, target: str) -> None:
        if (source, target) not in seen:
            seen.add((source, target))
            graph.edges.append(GraphEdge(source, target))

    for spec in table.steps.values():
        step_id = graph.step_ids[spec.name]
        for event_type in event_types:
            # A returned StopEvent ends the run instead of being routed, so a step that
            # accepts a broad base such as `Event` is not drawn receiving it.
            routed = spec.accepts(event_type) and not issubclass(event_type, StopEvent)
            if routed or event_type in spec.accepted:
                add_edge(event_ids[event_type], step_id)
        for event_type in spec.emitted:
            add_edge(step_id, event_ids[event_type])
    if EXTERNAL_NODE_ID in graph.nodes:
        for event_type in event_types:
            kind = _event_kind(event_type)
            if kind == "input" and any(event_type in s.emitted for s in table.steps.values()):
                add_edge(event_ids[event_type], EXTERNAL_NODE_ID)
            elif kind == "response":
                add_edge(EXTERNAL_NODE_ID, event_ids[event_type])
    return graph


def execution_graph(handler: object, caller: str) -> WorkflowGraph:
    """The flow graph of the workflow behind `handler`, each step with how many times it
    started in that run; what the run never reached has `ran=False`. `handler` must be a
    WorkflowHandler, else a TypeError naming `caller`."""
    from agentflow.handler import WorkflowHandler

    if not isinstance(handler, WorkflowHandler):
        raise TypeError(
            f"{caller}() takes the WorkflowHandler that workflow.run() returned, got "
            f"{_describe(handler)}"
        )
    graph = flow_graph(type(handler.ctx.workflow))
    executions = handler.step_executions
    for name, node_id in graph.step_ids.items():
        node = graph.nodes[node_id]
        node.executions = executions.get(name, 0)
        node.ran = node.executions > 0
        node.tooltip = f"step {name}: started {node.executions} time(s) in this run"
    # An event or the external node counts as reached when a step next to it ran.
    step_node_ids = set(graph.step_ids.values())
    reached: set[str] = set()
    for edge in graph.edges:
        for one, other in ((edge.source, edge.target), (edge.target, edge.source)):
            if one in step_node_ids and graph.nodes[one].ran:
                reached.add(other)
    for edge in graph.edges:
        if EXTERNAL_NODE_ID in (edge.source, edge.target):
            other = edge.target if edge.source == EXTERNAL_NODE_ID else edge.source
            if other in reached:
                reached.add(EXTERNAL_NODE_ID)
    for node in graph.nodes.values():
        if node.kind != "step":
            node.ran = node.id in reached
    graph.edges = [
        GraphEdge(e.source, e.target, graph.nodes[e.source].ran and graph.nodes[e.target].ran)
        for e in graph.edges
    ]
    return graph


def _describe(value: object) -> str:
    if isinstance(value, type):
        return f"the class {value.__qualname__}"
    return f"a {type(value).__name__}"


def _event_kind(event_type: type[Event]) -> NodeKind:
    if issubclass(event_type, StopEvent):
        return "stop"
    if issubclass(event_type, StartEvent):
        return "start"
    if issubclass(event_type, InputRequiredEvent):
        return "input"
    if issubclass(event_type, HumanResponseEvent):
        return "response"
    return "event"


class _NodeIds:
    """Hands out distinct Mermaid-safe ids: two event classes may share a name, and a name
    may hold characters (spaces, quotes, `<`) or words (`end`) that Mermaid cannot take."""

    def __init__(self) -> None:
        self._used: set[str] = {EXTERNAL_NODE_ID}

    def new(self, prefix: str, name: str) -> str:
        base = prefix + (re.sub(r"[^A-Za-z0-9_]", "_", name) or "_")
        candidate, suffix = base, 2
        while candidate in self._used:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        self._used.add(candidate)
        return candidate
