"""`GET /workflows/{name}/representation`: a workflow's graph model
(`agentflow.representation`, the one `agentflow draw` renders) as the reference's server
sends it, `{"graph": WorkflowGraph}`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentflow.representation import get_workflow_representation

if TYPE_CHECKING:
    from agentflow.workflow import Workflow


def graph_json(workflow: Workflow[Any]) -> dict[str, Any]:
    """`get_workflow_representation(workflow)` as JSON-ready data: `{name, nodes, edges,
    description}`, without the drawings' `wait_for_event` edges, as the reference sends."""
    return get_workflow_representation(workflow).model_dump(mode="json")
