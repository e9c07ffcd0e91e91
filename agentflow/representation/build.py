"""`get_workflow_representation`: a workflow's graph model, read from its step table.

The graph is the reference's, node for node and edge for edge, so that tools written for
llama-index-workflows (its server's UI, tests pinning a graph's edges) read agentflow's
the same way:

- steps in the reference's order: methods by name, then `@step(workflow=...)` functions
  in the order they were added; after each step its accepted events, its returned events
  (and the external party, after the first InputRequiredEvent a step returns), then its
  resources;
- edges, step by step: the step to each event it returns, each InputRequiredEvent it
  returns to the external party, each event class routed to the step (subclasses of
  what it accepts included, as agentflow routes them, but never a StopEvent, which ends
  the run instead) to it, the external party to each HumanResponseEvent it accepts, and
  the step to each resource, labelled with the parameter name (and, as they are added,
  a resource to each resource its factory takes).

Two deliberate differences: two event classes of one name (from two modules) stay two
nodes, each with its module-qualified name as id and label (the reference merges them);
and a workflow class with no docstring of its own or of a base of its own has no
description (the reference gives its own Workflow class's docstring).

With `include_waits=True` the graph also shows what steps wait for inside their bodies
(`ctx.wait_for_event`, read from their source by `waits.py`), which no signature says:
an edge labelled `wait_for_event` from the awaited event to the step, one labelled
`waiter_event` from the step to the event it writes to the stream as it starts waiting,
and the external party's round trip when those are an InputRequiredEvent and a
HumanResponseEvent. The reference has no such edges, so they are left out by default.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.errors import PydanticInvalidForJsonSchema

from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StopEvent
from agentflow.representation.resource_nodes import (
    ResourceNode,
    dependencies_of,
    descriptor_key,
    descriptor_node,
    resource_types,
)
from agentflow.representation.types import (
    WorkflowEventNode,
    WorkflowExternalNode,
    WorkflowGraph,
    WorkflowGraphEdge,
    WorkflowGraphNode,
    WorkflowStepNode,
)
from agentflow.representation.waits import Wait, waits_in
from agentflow.runtime.step_table import StepSpec, step_table_of

if TYPE_CHECKING:
    from agentflow.workflow import Workflow

EXTERNAL_NODE_ID = "external_step"
"""Id of the node standing for whoever answers InputRequiredEvents (the reference's)."""
WAIT_EDGE_LABEL = "wait_for_event"
"""Label of an edge from an event class to a step that waits for it in its body."""
WAITER_EDGE_LABEL = "waiter_event"
"""Label of an edge from a waiting step to the event it writes to the stream as it waits."""


def get_workflow_representation(
    workflow: Workflow[Any] | type[Workflow[Any]], *, include_waits: bool = False
) -> WorkflowGraph:
    """The graph of `workflow` (a Workflow class or instance): its steps, the event
    classes between them, the external party of a human round trip and its resources
    (see the module docstring); with `include_waits=True`, also the events its steps wait
    for with `ctx.wait_for_event`."""
    workflow_class = workflow_class_of(workflow, "get_workflow_representation")
    specs = _in_reference_order(list(step_table_of(workflow_class).steps.values()))
    builder = _GraphBuilder(specs, include_waits)
    builder.add_nodes()
    builder.add_edges()
    if include_waits:
        builder.add_waits()
    return WorkflowGraph(
        name=workflow_class.__name__,
        nodes=list(builder.nodes.values()),
        edges=builder.edges,
        description=_description(workflow_class),
    )


def workflow_class_of(workflow: object, caller: str) -> type[Workflow[Any]]:
    """`workflow` itself when it is a Workflow subclass, its class when it is an instance;
    anything else is a TypeError naming `caller` and what it got."""
    from agentflow.workflow import Workflow

    if isinstance(workflow, Workflow):
        return type(workflow)
    if isinstance(workflow, type) and issubclass(workflow, Workflow):
        return workflow
    got = (
        f"the class {workflow.__qualname__}"
        if isinstance(workflow, type)
        else f"a {type(workflow).__name__}"
    )
    raise TypeError(f"{caller}() takes a Workflow subclass or instance, got {got}")


class _GraphBuilder:
    """The nodes and edges of one graph, added in the reference's order."""

    def __init__(self, specs: list[StepSpec], include_waits: bool) -> None:
        self.specs = specs
        self.nodes: dict[str, WorkflowGraphNode] = {}
        self.edges: list[WorkflowGraphEdge] = []
        self.waits = {spec.name: waits_in(spec.function) if include_waits else [] for spec in specs}
        self.event_ids = _event_ids(specs, self.waits)
        self.producers: dict[type[Event], list[str]] = {}
        for spec in specs:
            for emitted in spec.emitted:
                self.producers.setdefault(emitted, []).append(spec.name)
        # The stop event the workflow returns: a step accepting the base StopEvent while
        # the workflow ends with another (or none) is not drawn receiving it.
        self.stop_type = next(
            (t for spec in specs for t in spec.emitted if issubclass(t, StopEvent)), None
        )
        self.resources: dict[object, str] = {}
        """Node id of each resource, by `descriptor_key`."""

    def add_nodes(self) -> None:
        for spec in self.specs:
            self.nodes[spec.name] = WorkflowStepNode(
                id=spec.name, label=spec.name, description=inspect.getdoc(spec.function)
            )
            for event_type in spec.accepted:
                if not self._skipped(event_type):
                    self._add_event(event_type)
            for event_type in spec.emitted:
                self._add_event(event_type)
                if issubclass(event_type, InputRequiredEvent):
                    self._add_external()
            types = resource_types(spec.function, [name for name, _ in spec.resources])
            for name, descriptor in spec.resources:
                self._add_resource(descriptor, types.get(name))

    def add_edges(self) -> None:
        in_graph = [t for t in self.event_ids if self.event_ids[t] in self.nodes]
        for spec in self.specs:
            for event_type in spec.emitted:
                self._edge(spec.name, self.event_ids[event_type])
                if issubclass(event_type, InputRequiredEvent):
                    self._edge(self.event_ids[event_type], EXTERNAL_NODE_ID)
            for event_type in _routed_to(spec, in_graph):
                if self._skipped(event_type):
                    continue
                self._edge(self.event_ids[event_type], spec.name)
                if issubclass(event_type, HumanResponseEvent) and EXTERNAL_NODE_ID in self.nodes:
                    self._edge(EXTERNAL_NODE_ID, self.event_ids[event_type])
            for name, descriptor in spec.resources:
                self._edge(spec.name, self.resources[descriptor_key(descriptor)], name)

    def add_waits(self) -> None:
        seen = {(edge.source, edge.target, edge.label) for edge in self.edges}

        def edge(source: str, target: str, label: str | None = None) -> None:
            if (source, target, label) not in seen:
                seen.add((source, target, label))
                self._edge(source, target, label)

        for spec in self.specs:
            for wait in self.waits[spec.name]:
                awaited = self._add_event(wait.event_type)
                if wait.waiter_event_type is not None:
                    waiter = self._add_event(wait.waiter_event_type)
                    edge(spec.name, waiter, WAITER_EDGE_LABEL)
                    if issubclass(wait.waiter_event_type, InputRequiredEvent):
                        self._add_external()
                        edge(waiter, EXTERNAL_NODE_ID)
                if issubclass(wait.event_type, HumanResponseEvent) and (
                    EXTERNAL_NODE_ID in self.nodes
                ):
                    edge(EXTERNAL_NODE_ID, awaited)
                edge(awaited, spec.name, WAIT_EDGE_LABEL)

    def _add_resource(self, descriptor: Any, type_annotation: Any) -> str:
        """The node of `descriptor`, added with those of what it needs (an edge to each,
        labelled with the factory's parameter) unless already there."""
        key = descriptor_key(descriptor)
        if key in self.resources:  # already drawn, or being drawn: a cycle is the run's error
            return self.resources[key]
        node: ResourceNode = descriptor_node(descriptor, type_annotation)
        self.nodes.setdefault(node.id, node)
        self.resources[key] = node.id
        needs = dependencies_of(descriptor)
        types = resource_types(descriptor.factory, [name for name, _ in needs]) if needs else {}
        for parameter, needed in needs:
            needed_id = self._add_resource(needed, types.get(parameter))
            self._edge(node.id, needed_id, parameter)
        return node.id

    def _skipped(self, event_type: type[Event]) -> bool:
        return event_type is StopEvent and self.stop_type is not StopEvent

    def _add_event(self, event_type: type[Event]) -> str:
        node_id = self.event_ids[event_type]
        if node_id not in self.nodes:
            self.nodes[node_id] = WorkflowEventNode(
                id=node_id,
                label=node_id,
                event_type=event_type.__name__,
                event_types=_event_type_chain(event_type),
                event_schema=_schema(event_type),
                produced_by=list(self.producers.get(event_type, ())),
            )
        return node_id

    def _add_external(self) -> None:
        if EXTERNAL_NODE_ID not in self.nodes:
            self.nodes[EXTERNAL_NODE_ID] = WorkflowExternalNode(
                id=EXTERNAL_NODE_ID, label=EXTERNAL_NODE_ID
            )

    def _edge(self, source: str, target: str, label: str | None = None) -> None:
        self.edges.append(WorkflowGraphEdge(source=source, target=target, label=label))


def _in_reference_order(specs: list[StepSpec]) -> list[StepSpec]:
    """Methods by name (the reference lists them with `inspect.getmembers`), then free
    functions as added."""
    methods = sorted((spec for spec in specs if spec.is_method), key=lambda spec: spec.name)
    return methods + [spec for spec in specs if not spec.is_method]


def _event_ids(specs: list[StepSpec], waits: dict[str, list[Wait]]) -> dict[type[Event], str]:
    """Each event class's node id: its name, or its module-qualified name when another
    class of the graph has the same name."""
    classes: list[type[Event]] = []
    for spec in specs:
        for wait in waits[spec.name]:
            classes.extend(t for t in (wait.event_type, wait.waiter_event_type) if t)
        classes.extend((*spec.accepted, *spec.emitted))
    distinct = list(dict.fromkeys(classes))
    names = [event_type.__name__ for event_type in distinct]
    return {
        event_type: (
            f"{event_type.__module__}.{event_type.__qualname__}"
            if names.count(event_type.__name__) > 1
            else event_type.__name__
        )
        for event_type in distinct
    }


def _routed_to(spec: StepSpec, in_graph: list[type[Event]]) -> list[type[Event]]:
    """The event classes of the graph that reach `spec`: each it accepts, then the
    subclasses of it that the runtime also routes to it, StopEvents excepted."""
    routed: list[type[Event]] = []
    for accepted in spec.accepted:
        candidates = [accepted] + [
            t
            for t in in_graph
            if t is not accepted and issubclass(t, accepted) and not issubclass(t, StopEvent)
        ]
        routed.extend(t for t in candidates if t not in routed)
    return routed


def _event_type_chain(event_type: type[Event]) -> list[str]:
    """The class's name, then its Event bases' names up to (without) Event, nearest first."""
    chain = [event_type.__name__]
    for base in event_type.__mro__[1:]:
        if base is Event:
            break
        if issubclass(base, Event):
            chain.append(base.__name__)
    return chain


def _schema(model: type[BaseModel]) -> dict[str, Any] | None:
    try:
        return model.model_json_schema()
    except PydanticInvalidForJsonSchema:
        return None  # a field pydantic cannot describe: the node goes without a schema


def _description(workflow_class: type[Workflow[Any]]) -> str | None:
    """The docstring of the class or of its nearest documented base, agentflow's own
    Workflow excepted: it says nothing about this workflow."""
    from agentflow.workflow import Workflow

    for klass in workflow_class.__mro__:
        if klass is Workflow:
            return None
        doc = klass.__dict__.get("__doc__")
        if doc:
            return inspect.cleandoc(doc)
    return None
