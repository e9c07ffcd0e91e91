"""A drawing's scene as a self-contained HTML page: the SVG drawing, a legend, the run
counts of an execution drawing, and the Mermaid text folded away for pasting into docs.

The page loads nothing from the network, so it opens the same offline, in a CI artifact
or in a notebook.
"""

from __future__ import annotations

import html
import os
from importlib import import_module
from pathlib import Path
from typing import Any

from agentflow.drawing.mermaid import render_mermaid
from agentflow.drawing.scene import EdgeKind, NodeKind, Scene
from agentflow.drawing.svg import EDGE_COLOURS, KIND_COLOURS, NOT_RUN_COLOURS, render_svg

_KIND_NAMES: dict[NodeKind, str] = {
    "step": "step",
    "event": "event",
    "start": "start event",
    "stop": "stop event (ends the run)",
    "input": "input required (goes to a human)",
    "response": "human response (sent in from outside)",
    "external": "the caller answering",
    "resource": "resource (made by a factory)",
    "config": "resource config (read from a file)",
    "other": "other",
}
_EDGE_KIND_NAMES: dict[EdgeKind, str] = {
    "resource": "uses a resource (parameter name)",
    "wait": "waits in ctx.wait_for_event (and the waiter_event it writes)",
}

_PAGE_STYLE = """
body { font: 13px system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px;
       color: #0f172a; background: #ffffff; }
h1 { font-size: 18px; margin: 0 0 4px; }
p.summary { color: #475569; margin: 0 0 16px; }
.graph { overflow: auto; border: 1px solid #e2e8f0; border-radius: 8px; }
svg.workflow-graph text { font: 13px system-ui, -apple-system, "Segoe UI", sans-serif; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 14px; }
ul.legend span { display: inline-block; width: 14px; height: 14px; border-radius: 3px;
                 border: 1.5px solid; vertical-align: middle; margin-right: 5px; }
table { border-collapse: collapse; margin: 12px 0; }
td, th { border: 1px solid #e2e8f0; padding: 4px 10px; text-align: left; }
pre { background: #f8fafc; border: 1px solid #e2e8f0; padding: 12px; overflow: auto; }
"""


def render_page(scene: Scene, subtitle: str, max_label_length: int | None) -> str:
    """The whole HTML document for `scene`, titled with its workflow's name and
    `subtitle`."""
    name = html.escape(scene.workflow_name)
    steps = len(scene.step_ids)
    kinds = [node.kind for node in scene.nodes.values()]
    events = sum(kinds.count(kind) for kind in ("event", "start", "stop", "input", "response"))
    resources = kinds.count("resource") + kinds.count("config")
    legend = "".join(
        f'<li><span style="background:{KIND_COLOURS[kind][0]};'
        f'border-color:{KIND_COLOURS[kind][1]}">'
        f"</span>{html.escape(_KIND_NAMES[kind])}</li>"
        for kind in _KIND_NAMES
        if kind in kinds
    )
    edge_kinds = {edge.kind for edge in scene.edges}
    legend += "".join(
        f'<li><span style="border-color:{EDGE_COLOURS[kind]};border-width:0 0 3px;'
        f'border-radius:0"></span>{html.escape(_EDGE_KIND_NAMES[kind])}</li>'
        for kind in _EDGE_KIND_NAMES
        if kind in edge_kinds
    )
    executions = ""
    if any(node.executions is not None for node in scene.nodes.values()):
        rows = "".join(
            f"<tr><td>{html.escape(step_name)}</td><td>{scene.nodes[node_id].executions}</td></tr>"
            for step_name, node_id in scene.step_ids.items()
        )
        fill, stroke = NOT_RUN_COLOURS
        legend += (
            f'<li><span style="background:{fill};border-color:{stroke};border-style:dashed">'
            "</span>not reached in this run</li>"
        )
        executions = (
            "<table><thead><tr><th>step</th><th>times started</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    mermaid = html.escape(render_mermaid(scene, max_label_length))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{name}: {html.escape(subtitle)}</title>\n"
        f"<style>{_PAGE_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{name}: {html.escape(subtitle)}</h1>\n"
        f'<p class="summary">{steps} step{"s" * (steps != 1)}, '
        f"{events} event type{'s' * (events != 1)}"
        f"{f', {resources} resource' + 's' * (resources != 1) if resources else ''}</p>\n"
        f'<div class="graph">\n{render_svg(scene, max_label_length)}\n</div>\n'
        f'<ul class="legend">{legend}</ul>\n{executions}\n'
        "<details><summary>Mermaid source</summary>\n"
        f'<pre class="mermaid-source">{mermaid}</pre>\n</details>\n'
        "</body>\n</html>\n"
    )


def write_page(page: str, filename: str | os.PathLike[str], notebook: bool) -> str:
    """Write `page` to `filename` and return the path; with `notebook=True` also show it
    inline in Jupyter."""
    path = Path(filename)
    path.write_text(page, encoding="utf-8")
    if notebook:
        _display_in_notebook(page)
    return str(path)


def _display_in_notebook(page: str) -> None:
    try:
        display: Any = import_module("IPython.display")
    except ImportError as error:
        raise RuntimeError(
            "notebook=True displays the drawing with IPython, which is not installed; "
            "open the written HTML file instead"
        ) from error
    display.display(display.HTML(page))
