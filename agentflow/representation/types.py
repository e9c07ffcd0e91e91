"""The graph model of a workflow: pydantic nodes and edges, field for field the ones
llama-index-workflows 2.x exports from `workflows.representation`, so a graph dumped by
either library validates with the other's models.

Nodes are told apart by `node_type`: a step, an event class, the outside party answering
InputRequiredEvents, a resource, a resource config, or (`WorkflowGenericNode`) any other
kind a tool adds. `WorkflowGraph.model_validate_json` picks each node's class from its
`node_type`, so a graph round-trips through JSON.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class WorkflowNodeBase(BaseModel):
    """What every node has: an id unique in its graph and the text a drawing shows."""

    id: str = Field(description="Unique within the graph; edges name nodes by it")
    label: str = Field(description="The text a drawing shows for the node")

    def truncated_label(self, max_length: int) -> str:
        """The label cut to `max_length` characters, the last one a `*` when cut."""
        if len(self.label) <= max_length:
            return self.label
        return self.label[: max_length - 1] + "*"


class WorkflowStepNode(WorkflowNodeBase):
    """A step: a `@step` method of the workflow class or a function added with
    `@step(workflow=...)`."""

    node_type: Literal["step"] = Field(default="step", description="Always 'step'")
    description: str | None = Field(default=None, description="The step's docstring")


class WorkflowEventNode(WorkflowNodeBase):
    """An event class that a step accepts or returns."""

    node_type: Literal["event"] = Field(default="event", description="Always 'event'")
    event_type: str = Field(description="The event class's name")
    event_types: list[str] = Field(
        description="The class's name, then the names of its Event bases up to (without) "
        "Event itself, nearest first: what `is_subclass_of` looks in"
    )
    event_schema: dict[str, Any] | None = Field(
        default=None, description="The event class's pydantic JSON schema"
    )
    produced_by: list[str] = Field(
        default_factory=list,
        description="The steps whose return annotation names this event class",
    )

    def is_subclass_of(self, *type_names: str) -> bool:
        """True when the event class is, or derives from, a class of one of these names."""
        return not set(type_names).isdisjoint(self.event_types)


class WorkflowExternalNode(WorkflowNodeBase):
    """Whoever answers the InputRequiredEvents steps return: a person, another system."""

    node_type: Literal["external"] = Field(default="external", description="Always 'external'")


class WorkflowResourceNode(WorkflowNodeBase):
    """A value steps receive through `Annotated[T, Resource(factory)]`."""

    node_type: Literal["resource"] = Field(default="resource", description="Always 'resource'")
    type_name: str | None = Field(default=None, description="The name of `T`")
    getter_name: str | None = Field(default=None, description="The factory's qualified name")
    source_file: str | None = Field(
        default=None, description="The file defining the factory, when Python knows it"
    )
    source_line: int | None = Field(
        default=None, description="The line the factory's definition starts on"
    )
    description: str | None = Field(default=None, description="The factory's docstring")


class WorkflowResourceConfigNode(WorkflowNodeBase):
    """A model loaded from a JSON file for steps or factories (`ResourceConfig`)."""

    node_type: Literal["resource_config"] = Field(
        default="resource_config", description="Always 'resource_config'"
    )
    type_name: str | None = Field(default=None, description="The model class's name")
    config_file: str | None = Field(default=None, description="The JSON file read")
    path_selector: str | None = Field(
        default=None, description="Dotted path to the part of the file that is used"
    )
    config_schema: dict[str, Any] | None = Field(
        default=None, description="The model class's pydantic JSON schema"
    )
    config_value: dict[str, Any] | None = Field(
        default=None, description="What the file holds at that path, when it could be read"
    )
    description: str | None = Field(default=None, description="What the config is for")


class WorkflowGenericNode(WorkflowNodeBase):
    """A node of a kind the other classes do not cover (an agent, a tool...), which
    tools building on the model may add."""

    node_type: str = Field(description="The kind of node, free text")
    event_type: str | None = Field(
        default=None, description="A type name, for kinds that have subtypes"
    )
    event_types: list[str] | None = Field(
        default=None, description="That type's name and its bases' names, nearest first"
    )

    def is_subclass_of(self, *type_names: str) -> bool:
        """True when `event_types` holds one of these names (never without `event_types`)."""
        return bool(self.event_types) and not set(type_names).isdisjoint(self.event_types or ())


WorkflowGraphNode = (
    WorkflowStepNode
    | WorkflowEventNode
    | WorkflowExternalNode
    | WorkflowResourceNode
    | WorkflowResourceConfigNode
    | WorkflowGenericNode
)
"""Any node. Validation tries the classes in this order; the generic node, whose
`node_type` takes any string, comes last so that it only gets what no other class fits."""


class WorkflowGraphEdge(BaseModel):
    """An arrow from one node to another, by id."""

    source: str = Field(description="Id of the node the arrow leaves")
    target: str = Field(description="Id of the node the arrow enters")
    label: str | None = Field(
        default=None,
        description="The parameter name on an edge to a resource; agentflow also marks "
        "the events a step waits for with `wait_for_event` (see `get_workflow_representation`)",
    )


class WorkflowGraph(BaseModel):
    """One workflow's nodes and edges."""

    name: str = Field(description="The workflow class's name")
    nodes: list[WorkflowGraphNode] = Field(description="Every node, steps in step order")
    edges: list[WorkflowGraphEdge] = Field(description="Every edge")
    description: str | None = Field(default=None, description="The workflow class's docstring")

    def filter_by_node_type(self, *node_types: str) -> WorkflowGraph:
        """The graph without the nodes of these `node_type`s, each path through removed
        nodes replaced by one edge between the kept nodes at its ends, labelled with the
        first removed node's label (or the direct edge's own label). With events removed,
        steps link to the steps their events reach."""
        removed = {node.id for node in self.nodes if node.node_type in node_types}
        kept = [node for node in self.nodes if node.id not in removed]
        labels = {node.id: node.label for node in self.nodes}
        leaving: dict[str, list[WorkflowGraphEdge]] = {}
        for edge in self.edges:
            leaving.setdefault(edge.source, []).append(edge)

        edges: dict[tuple[str, str], WorkflowGraphEdge] = {}
        for node in kept:
            # Depth first from each kept node; `through` stops a cycle of removed nodes.
            through: set[str] = set()
            pending = [(edge, edge.label) for edge in reversed(leaving.get(node.id, []))]
            while pending:
                edge, label = pending.pop()
                if edge.target not in removed:
                    if (node.id, edge.target) not in edges:
                        edges[node.id, edge.target] = WorkflowGraphEdge(
                            source=node.id, target=edge.target, label=label
                        )
                elif edge.target not in through:
                    through.add(edge.target)
                    first = labels[edge.target] if edge.source == node.id else label
                    onward = leaving.get(edge.target, [])
                    pending.extend((next_edge, first) for next_edge in reversed(onward))
        return WorkflowGraph(
            name=self.name, nodes=kept, edges=list(edges.values()), description=self.description
        )
