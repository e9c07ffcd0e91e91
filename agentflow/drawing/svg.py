"""A laid-out scene as an inline SVG element: shapes, arrows, labels, tooltips.

Each node is a `<g>` carrying its kind, whether it ran and its run count as classes and
`data-` attributes, and each edge its kind, so the page (and tests) can find them without
parsing geometry. Edges to resources are violet and waits amber, each with its label
(the parameter name, `wait_for_event` or `waiter_event`) along it.
"""

from __future__ import annotations

import html

from agentflow.drawing.layout import NODE_HEIGHT, NodeBox, lay_out
from agentflow.drawing.scene import EdgeKind, NodeKind, Scene, SceneNode

KIND_COLOURS: dict[NodeKind, tuple[str, str]] = {
    "step": ("#dbeafe", "#1d4ed8"),
    "event": ("#dcfce7", "#15803d"),
    "start": ("#f5d0fe", "#a21caf"),
    "stop": ("#fed7aa", "#c2410c"),
    "input": ("#fef9c3", "#a16207"),
    "response": ("#fef9c3", "#a16207"),
    "external": ("#e2e8f0", "#475569"),
    "resource": ("#ede9fe", "#6d28d9"),
    "config": ("#e0f2fe", "#0369a1"),
    "other": ("#f1f5f9", "#334155"),
}
"""Fill and stroke of each kind of node; the page's legend shows the same pairs."""
EDGE_COLOURS: dict[EdgeKind, str] = {"flow": "#475569", "resource": "#6d28d9", "wait": "#a16207"}
"""Stroke of each kind of edge; the page's legend names the last two."""
NOT_RUN_COLOURS = ("#f8fafc", "#94a3b8")
"""Fill and stroke of what a run never reached."""


def render_svg(scene: Scene, max_label_length: int | None) -> str:
    """`scene` as one `<svg>` element, labels cut to `max_label_length`."""
    layout = lay_out(scene, max_label_length)
    parts = [
        f'<svg class="workflow-graph" width="{layout.width:.0f}" height="{layout.height:.0f}" '
        f'viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" role="img" '
        f'aria-label="{html.escape(scene.workflow_name, quote=True)} step graph">',
        '<defs><marker id="agentflow-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker></defs>',
    ]
    labels: list[str] = []
    for edge, path, (mid_x, mid_y) in zip(
        scene.edges, layout.edge_paths, layout.edge_label_points, strict=True
    ):
        source, target = scene.nodes[edge.source], scene.nodes[edge.target]
        dash = "" if edge.ran else ' stroke-dasharray="5 4" opacity="0.5"'
        colour = EDGE_COLOURS[edge.kind]
        title = f"{source.label} → {target.label}"
        if edge.label is not None:
            title += f" ({edge.label})"
            labels.append(
                f'<text class="edge-label" x="{mid_x:.1f}" y="{mid_y:.1f}" '
                f'text-anchor="middle" dominant-baseline="central" font-size="11" '
                f'fill="{colour}" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
                f"{html.escape(edge.label)}</text>"
            )
        parts.append(
            f'<path class="edge" data-source="{edge.source}" data-target="{edge.target}" '
            f'data-kind="{edge.kind}" d="{path}" fill="none" '
            f'stroke="{colour}" stroke-width="1.4" marker-end="url(#agentflow-arrow)"{dash}>'
            f"<title>{html.escape(title)}</title></path>"
        )
    for node_id, node in scene.nodes.items():
        box = layout.boxes[node_id]
        fill, stroke = KIND_COLOURS[node.kind] if node.ran else NOT_RUN_COLOURS
        state = "ran" if node.ran else "not-run"
        extra = "" if node.executions is None else f' data-executions="{node.executions}"'
        if not node.ran:
            extra += ' opacity="0.6"'
        parts.append(
            f'<g class="node {node.kind} {state}" data-id="{node_id}"{extra}>'
            f"<title>{html.escape(node.tooltip)}</title>"
            f"{_node_shape(node, box, fill, stroke)}"
            f'<text x="{box.center_x:.1f}" y="{box.y + NODE_HEIGHT / 2:.1f}" '
            f'text-anchor="middle" dominant-baseline="central" '
            f'fill="{"#0f172a" if node.ran else "#64748b"}">'
            f"{html.escape(node.text(max_label_length))}</text></g>"
        )
    parts.extend(labels)  # last, so no node covers them
    parts.append("</svg>")
    return "\n".join(parts)


def _node_shape(node: SceneNode, box: NodeBox, fill: str, stroke: str) -> str:
    x, y, w, h = box.x, box.y, box.width, NODE_HEIGHT
    paint = f'fill="{fill}" stroke="{stroke}"'
    paint += ' stroke-width="3"' if node.kind == "stop" else ' stroke-width="1.5"'
    if not node.ran:
        paint += ' stroke-dasharray="5 4"'
    if node.kind == "step":
        return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" rx="6" {paint}/>'
    if node.kind == "resource":
        return (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" rx="12" ry="8" {paint}/>'
        )
    if node.kind == "other":
        return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" {paint}/>'
    if node.kind in ("input", "response"):
        skew = 10
        points = [(x + skew, y), (x + w, y), (x + w - skew, y + h), (x, y + h)]
    elif node.kind == "config":
        skew = 10
        points = [(x + skew, y), (x + w - skew, y), (x + w, y + h), (x, y + h)]
    elif node.kind == "external":
        cut = 14
        points = [
            (x + cut, y), (x + w - cut, y), (x + w, y + h / 2),
            (x + w - cut, y + h), (x + cut, y + h), (x, y + h / 2),
        ]  # fmt: skip
    else:
        return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" rx="{h / 2}" {paint}/>'
    listed = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    return f'<polygon points="{listed}" {paint}/>'
