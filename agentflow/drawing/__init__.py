"""Pictures of a workflow's step graph: every flow it could take, and what one run did.

    draw_all_possible_flows_mermaid(MyFlow)     -> Mermaid flowchart text
    draw_all_possible_flows(MyFlow, "flow.html") -> a self-contained HTML page
    draw_most_recent_execution(handler, ...)    -> the same graph, each step with its run count

The names match `llama_index.utils.workflow`, so code drawing LlamaIndex workflows ports by
renaming the import. What is drawn is the workflow's graph model,
`agentflow.representation.get_workflow_representation(..., include_waits=True)`: steps,
events, the external party of a human round trip, resources (with the parameter name on
the edge) and what steps wait for in `ctx.wait_for_event` (an edge labelled
`wait_for_event` into the step, one labelled `waiter_event` to the event it writes).
`scene.py` turns the model into what renderers need (kinds, safe ids, run counts);
`mermaid.py` renders the text, and for the offline page `layout.py` (where each node
goes), `svg.py` (the drawing) and `page.py` (the HTML around it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from agentflow.drawing.mermaid import render_mermaid
from agentflow.drawing.page import render_page, write_page

# EXTERNAL_NODE_ID and NodeKind stay importable from here, as before the graph model.
from agentflow.drawing.scene import NodeKind as NodeKind
from agentflow.drawing.scene import execution_scene, flow_scene
from agentflow.representation import EXTERNAL_NODE_ID as EXTERNAL_NODE_ID

if TYPE_CHECKING:
    from agentflow.handler import WorkflowHandler
    from agentflow.workflow import Workflow

__all__ = [
    "draw_all_possible_flows",
    "draw_all_possible_flows_mermaid",
    "draw_most_recent_execution",
    "draw_most_recent_execution_mermaid",
]


def draw_all_possible_flows_mermaid(
    workflow: Workflow | type[Workflow],
    filename: str | os.PathLike[str] | None = None,
    max_label_length: int | None = None,
) -> str:
    """Mermaid `flowchart` text of every flow `workflow` (a Workflow class or instance)
    could take; also written to `filename` when one is given. Labels longer than
    `max_label_length` are cut with an ellipsis."""
    text = render_mermaid(flow_scene(workflow, "draw_all_possible_flows_mermaid"), max_label_length)
    if filename is not None:
        Path(filename).write_text(text, encoding="utf-8")
    return text


def draw_all_possible_flows(
    workflow: Workflow | type[Workflow],
    filename: str | os.PathLike[str] = "workflow_all_flows.html",
    notebook: bool = False,
    max_label_length: int | None = None,
) -> str:
    """Write a self-contained HTML page drawing every flow `workflow` could take, and
    return its path. `notebook=True` also displays the page inline in Jupyter."""
    scene = flow_scene(workflow, "draw_all_possible_flows")
    page = render_page(scene, "all possible flows", max_label_length)
    return write_page(page, filename, notebook)


def draw_most_recent_execution_mermaid(
    handler: WorkflowHandler,
    filename: str | os.PathLike[str] | None = None,
    max_label_length: int | None = None,
) -> str:
    """Mermaid text of the run behind `handler`: each step labelled with how many times it
    started, steps that never ran (and the links only they use) dotted and dimmed. Works
    on a finished run or, as a snapshot, on one still going."""
    scene = execution_scene(handler, "draw_most_recent_execution_mermaid")
    text = render_mermaid(scene, max_label_length)
    if filename is not None:
        Path(filename).write_text(text, encoding="utf-8")
    return text


def draw_most_recent_execution(
    handler: WorkflowHandler,
    filename: str | os.PathLike[str] = "workflow_recent_execution.html",
    notebook: bool = False,
    max_label_length: int | None = None,
) -> str:
    """Write a self-contained HTML page of the run behind `handler` (steps with their run
    counts, steps that never ran dimmed and dashed) and return its path."""
    scene = execution_scene(handler, "draw_most_recent_execution")
    page = render_page(scene, f"run {handler.run_id}", max_label_length)
    return write_page(page, filename, notebook)
