"""A workflow's graph as data: `get_workflow_representation(MyFlow)` returns a pydantic
`WorkflowGraph` of its steps, event classes, resources and human round trips, the model
llama-index-workflows 2.x exports from `workflows.representation` (same classes, fields and
JSON). The drawings (`agentflow.drawing`, `agentflow draw`) render it and the server sends
it from `GET /workflows/{name}/representation`.

    types.py           the node and edge models
    build.py           get_workflow_representation: the graph from a workflow's step table
    resource_nodes.py  a node per resource, with the factory's file and line
    waits.py           the `ctx.wait_for_event` calls in a step's body, for drawings
"""

from __future__ import annotations

from agentflow.representation.build import (
    EXTERNAL_NODE_ID,
    WAIT_EDGE_LABEL,
    WAITER_EDGE_LABEL,
    get_workflow_representation,
)
from agentflow.representation.types import (
    WorkflowEventNode,
    WorkflowExternalNode,
    WorkflowGenericNode,
    WorkflowGraph,
    WorkflowGraphEdge,
    WorkflowGraphNode,
    WorkflowNodeBase,
    WorkflowResourceConfigNode,
    WorkflowResourceNode,
    WorkflowStepNode,
)

__all__ = [
    "EXTERNAL_NODE_ID",
    "WAITER_EDGE_LABEL",
    "WAIT_EDGE_LABEL",
    "WorkflowEventNode",
    "WorkflowExternalNode",
    "WorkflowGenericNode",
    "WorkflowGraph",
    "WorkflowGraphEdge",
    "WorkflowGraphNode",
    "WorkflowNodeBase",
    "WorkflowResourceConfigNode",
    "WorkflowResourceNode",
    "WorkflowStepNode",
    "get_workflow_representation",
]
