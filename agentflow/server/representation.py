"""`GET /workflows/{name}/representation`: a workflow's step graph (the one `agentflow draw`
renders, `agentflow.drawing.graph`) in the reference's `WorkflowGraph` JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentflow.drawing.graph import flow_graph

if TYPE_CHECKING:
    from agentflow.workflow import Workflow


def graph_json(workflow: Workflow[Any]) -> dict[str, Any]:
    """`{name, nodes, edges, description}`: steps are `node_type: "step"`, event classes
    `"event"` (with `event_type`), whoever answers questions `"external"`."""
    graph = flow_graph(type(workflow))
    nodes: list[dict[str, Any]] = []
    for node in graph.nodes.values():
        if node.kind in ("step", "external"):
            nodes.append(
                {
                    "id": node.id,
                    "label": node.label,
                    "node_type": node.kind,
                    "description": node.tooltip,
                }
            )
        else:
            nodes.append(
                {
                    "id": node.id,
                    "label": node.label,
                    "node_type": "event",
                    "event_type": node.label.rsplit(".", 1)[-1],
                    "description": node.tooltip,
                }
            )
    edges = [{"source": edge.source, "target": edge.target, "label": None} for edge in graph.edges]
    return {
        "name": graph.workflow_name,
        "nodes": nodes,
        "edges": edges,
        "description": (type(workflow).__doc__ or "").strip() or None,
    }
