"""Pictures of a workflow's step graph: every flow it could take, and what one run did.

    draw_all_possible_flows_mermaid(MyFlow)     -> Mermaid flowchart text
    draw_all_possible_flows(MyFlow, "flow.html") -> a self-contained HTML page
    draw_most_recent_execution(handler, ...)    -> the same graph, each step with its run count

The graph comes from the workflow class's step table: a node per step and per event type,
an edge from an event type to each step it is routed to (subclasses included, as the
runtime routes them) and from a step to each event type its return annotation names. A
step returning an `InputRequiredEvent` and one accepting a `HumanResponseEvent` meet at an
"external" node: the caller who answers. The names match `llama_index.utils.workflow`, so
code drawing LlamaIndex workflows ports by renaming the import.

The HTML page needs no network: the graph is an inline SVG laid out here, in layers from
the start event down (a small Sugiyama-style layout: breadth-first layers, then a few
barycenter sweeps to untangle each layer), and the Mermaid text is embedded for pasting
into docs.
"""

from __future__ import annotations

import html
import os
import re
from collections import deque
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent

if TYPE_CHECKING:
    from agentflow.handler import WorkflowHandler
    from agentflow.runtime.step_table import StepTable
    from agentflow.workflow import Workflow

__all__ = [
    "draw_all_possible_flows",
    "draw_all_possible_flows_mermaid",
    "draw_most_recent_execution",
    "draw_most_recent_execution_mermaid",
]

NodeKind = Literal["step", "event", "start", "stop", "input", "response", "external"]

_TIMES = "\u00d7"
"""The multiplication sign of "step x3" labels, escaped so no linter mistakes it for x."""

EXTERNAL_NODE_ID = "external_step"
"""Mermaid id of the node standing for whoever answers InputRequiredEvents (as upstream)."""


def draw_all_possible_flows_mermaid(
    workflow: Workflow | type[Workflow],
    filename: str | os.PathLike[str] | None = None,
    max_label_length: int | None = None,
) -> str:
    """Mermaid `flowchart` text of every flow `workflow` (a Workflow class or instance)
    could take; also written to `filename` when one is given. Labels longer than
    `max_label_length` are cut with an ellipsis."""
    graph = _flow_graph(_workflow_class(workflow, "draw_all_possible_flows_mermaid"))
    text = _render_mermaid(graph, max_label_length)
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
    graph = _flow_graph(_workflow_class(workflow, "draw_all_possible_flows"))
    page = _render_page(graph, "all possible flows", max_label_length)
    return _write_page(page, filename, notebook)


def draw_most_recent_execution_mermaid(
    handler: WorkflowHandler,
    filename: str | os.PathLike[str] | None = None,
    max_label_length: int | None = None,
) -> str:
    """Mermaid text of the run behind `handler`: each step labelled with how many times it
    started, steps that never ran (and the links only they use) dotted and dimmed. Works
    on a finished run or, as a snapshot, on one still going."""
    graph = _execution_graph(handler, "draw_most_recent_execution_mermaid")
    text = _render_mermaid(graph, max_label_length)
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
    graph = _execution_graph(handler, "draw_most_recent_execution")
    page = _render_page(graph, f"run {handler.run_id}", max_label_length)
    return _write_page(page, filename, notebook)


# --------------------------------------------------------------------------- the graph


@dataclass(slots=True)
class _Node:
    id: str
    """Unique, Mermaid-safe: letters, digits and underscores only."""
    label: str
    kind: NodeKind
    tooltip: str
    executions: int | None = None
    """Execution view only: how many times this step started."""
    ran: bool = True
    """False in the execution view for what the run never reached: drawn dimmed."""

    def text(self, max_label_length: int | None) -> str:
        label = self.label
        if max_label_length is not None and len(label) > max_label_length:
            label = label[: max(max_label_length - 1, 1)] + "…"
        if self.executions:
            label = f"{label} {_TIMES}{self.executions}"
        return label


@dataclass(frozen=True, slots=True)
class _Edge:
    source: str
    target: str
    ran: bool = True


@dataclass(slots=True)
class _Graph:
    workflow_name: str
    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)
    step_ids: dict[str, str] = field(default_factory=dict)
    """Step name -> node id."""


def _workflow_class(workflow: object, caller: str) -> type[Workflow]:
    from agentflow.workflow import Workflow

    if isinstance(workflow, Workflow):
        return type(workflow)
    if isinstance(workflow, type) and issubclass(workflow, Workflow):
        return workflow
    raise TypeError(f"{caller}() takes a Workflow subclass or instance, got {_describe(workflow)}")


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


def _flow_graph(workflow_class: type[Workflow]) -> _Graph:
    table: StepTable = workflow_class._step_table()
    graph = _Graph(workflow_name=workflow_class.__name__)
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
        graph.nodes[node_id] = _Node(node_id, label, _event_kind(event_type), qualified)

    for spec in table.steps.values():
        for event_type in spec.accepted:
            add_event(event_type)
        node_id = ids.new("step_", spec.name)
        graph.step_ids[spec.name] = node_id
        graph.nodes[node_id] = _Node(node_id, spec.name, "step", f"step {spec.name}")
        for event_type in spec.emitted:
            add_event(event_type)

    emits_input = any(
        issubclass(t, InputRequiredEvent) for s in table.steps.values() for t in s.emitted
    )
    accepts_response = any(
        issubclass(t, HumanResponseEvent) for s in table.steps.values() for t in s.accepted
    )
    if emits_input or accepts_response:
        graph.nodes[EXTERNAL_NODE_ID] = _Node(
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
            graph.edges.append(_Edge(source, target))

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


def _execution_graph(handler: object, caller: str) -> _Graph:
    from agentflow.handler import WorkflowHandler

    if not isinstance(handler, WorkflowHandler):
        raise TypeError(
            f"{caller}() takes the WorkflowHandler that workflow.run() returned, got "
            f"{_describe(handler)}"
        )
    graph = _flow_graph(type(handler.ctx.workflow))
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
        _Edge(e.source, e.target, graph.nodes[e.source].ran and graph.nodes[e.target].ran)
        for e in graph.edges
    ]
    return graph


# --------------------------------------------------------------------------- Mermaid

_MERMAID_SHAPES: dict[NodeKind, tuple[str, str]] = {
    "step": ("[", "]"),
    "event": ("([", "])"),
    "start": ("([", "])"),
    "stop": ("([", "])"),
    "input": ("[/", "/]"),
    "response": ("[/", "/]"),
    "external": ("{{", "}}"),
}
_MERMAID_CLASSES: dict[NodeKind, str] = {
    "step": "stepStyle",
    "event": "eventStyle",
    "start": "startEventStyle",
    "stop": "stopEventStyle",
    "input": "humanEventStyle",
    "response": "humanEventStyle",
    "external": "externalStyle",
}
_MERMAID_CLASS_DEFS = (
    "classDef stepStyle fill:#dbeafe,stroke:#1d4ed8,color:#0f172a",
    "classDef eventStyle fill:#dcfce7,stroke:#15803d,color:#0f172a",
    "classDef startEventStyle fill:#f5d0fe,stroke:#a21caf,color:#0f172a",
    "classDef stopEventStyle fill:#fed7aa,stroke:#c2410c,stroke-width:3px,color:#0f172a",
    "classDef humanEventStyle fill:#fef9c3,stroke:#a16207,color:#0f172a",
    "classDef externalStyle fill:#e2e8f0,stroke:#475569,color:#0f172a",
    "classDef notRunStyle fill:#f8fafc,stroke:#94a3b8,color:#94a3b8,stroke-dasharray:5 5",
)


def _mermaid_label(text: str) -> str:
    # Inside a quoted Mermaid label only entity codes are safe for these characters.
    return "".join(
        f"#{ord(char)};" if char in '"#<>&`' else (" " if char in "\r\n" else char) for char in text
    )


def _render_mermaid(graph: _Graph, max_label_length: int | None) -> str:
    lines = ["flowchart TD", f"    %% {_mermaid_label(graph.workflow_name)}"]
    for node in graph.nodes.values():
        opening, closing = _MERMAID_SHAPES[node.kind]
        css_class = _MERMAID_CLASSES[node.kind] if node.ran else "notRunStyle"
        label = _mermaid_label(node.text(max_label_length))
        lines.append(f'    {node.id}{opening}"{label}"{closing}:::{css_class}')
    for edge in graph.edges:
        arrow = "-->" if edge.ran else "-.->"
        lines.append(f"    {edge.source} {arrow} {edge.target}")
    lines.extend(f"    {class_def}" for class_def in _MERMAID_CLASS_DEFS)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- layout

_NODE_HEIGHT = 40
_LAYER_GAP = 70
_NODE_GAP = 36
_MARGIN = 30
_CHAR_WIDTH = 7.6
"""Rough width of one character at the 13px sans-serif the page uses."""


@dataclass(frozen=True, slots=True)
class _Box:
    x: float
    """Left edge."""
    y: float
    """Top edge."""
    width: float
    layer: int

    @property
    def center_x(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.y + _NODE_HEIGHT


def _assign_layers(graph: _Graph) -> dict[str, int]:
    """Breadth-first layers from the start events (then from any node nothing points to),
    so the main path reads top to bottom and a loop shows as an edge going back up."""
    successors: dict[str, list[str]] = {node_id: [] for node_id in graph.nodes}
    has_incoming: set[str] = set()
    for edge in graph.edges:
        successors[edge.source].append(edge.target)
        has_incoming.add(edge.target)
    layers: dict[str, int] = {}
    order = list(graph.nodes)
    while len(layers) < len(order):
        unplaced = [node_id for node_id in order if node_id not in layers]
        roots = [n for n in unplaced if graph.nodes[n].kind == "start"] or [
            n for n in unplaced if n not in has_incoming
        ]
        queue = deque(roots or unplaced[:1])
        for root in queue:
            layers[root] = 0
        while queue:
            node_id = queue.popleft()
            for successor in successors[node_id]:
                if successor not in layers:
                    layers[successor] = layers[node_id] + 1
                    queue.append(successor)
    return layers


def _order_layers(graph: _Graph, layers: dict[str, int]) -> list[list[str]]:
    """Nodes of each layer left to right; each node moves towards the mean position of
    its neighbours in the layers above (then below), which removes most crossings."""
    rows: list[list[str]] = [[] for _ in range(max(layers.values(), default=-1) + 1)]
    for node_id in graph.nodes:
        rows[layers[node_id]].append(node_id)
    neighbours: dict[str, list[str]] = {node_id: [] for node_id in graph.nodes}
    for edge in graph.edges:
        neighbours[edge.source].append(edge.target)
        neighbours[edge.target].append(edge.source)

    for sweep in range(4):
        downwards = sweep % 2 == 0
        for index in range(len(rows)) if downwards else reversed(range(len(rows))):
            where = {n: (i + 0.5) / len(row) for row in rows for i, n in enumerate(row)}
            keys = {
                node_id: _barycenter(node_id, neighbours[node_id], where, layers, index, downwards)
                for node_id in rows[index]
            }
            rows[index].sort(key=keys.__getitem__)
    return rows


def _barycenter(
    node_id: str,
    linked: list[str],
    where: dict[str, float],
    layers: dict[str, int],
    index: int,
    downwards: bool,
) -> float:
    placed = [
        where[other]
        for other in linked
        if (layers[other] < index if downwards else layers[other] > index)
    ]
    return sum(placed) / len(placed) if placed else where[node_id]


def _layout(graph: _Graph, max_label_length: int | None) -> tuple[dict[str, _Box], float, float]:
    layers = _assign_layers(graph)
    rows = _order_layers(graph, layers)
    widths = {
        node_id: max(90.0, len(node.text(max_label_length)) * _CHAR_WIDTH + 32)
        for node_id, node in graph.nodes.items()
    }
    row_widths = [sum(widths[n] for n in row) + _NODE_GAP * (len(row) - 1) for row in rows]
    content_width = max(row_widths, default=0.0)
    boxes: dict[str, _Box] = {}
    for index, row in enumerate(rows):
        x = _MARGIN + (content_width - row_widths[index]) / 2
        y = _MARGIN + index * (_NODE_HEIGHT + _LAYER_GAP)
        for node_id in row:
            boxes[node_id] = _Box(x, y, widths[node_id], index)
            x += widths[node_id] + _NODE_GAP
    width = content_width + 2 * _MARGIN
    height = len(rows) * (_NODE_HEIGHT + _LAYER_GAP) - _LAYER_GAP + 2 * _MARGIN
    return boxes, width, max(height, 2 * _MARGIN)


# --------------------------------------------------------------------------- SVG and HTML

_FILL: dict[NodeKind, tuple[str, str]] = {
    "step": ("#dbeafe", "#1d4ed8"),
    "event": ("#dcfce7", "#15803d"),
    "start": ("#f5d0fe", "#a21caf"),
    "stop": ("#fed7aa", "#c2410c"),
    "input": ("#fef9c3", "#a16207"),
    "response": ("#fef9c3", "#a16207"),
    "external": ("#e2e8f0", "#475569"),
}
_KIND_NAMES: dict[NodeKind, str] = {
    "step": "step",
    "event": "event",
    "start": "start event",
    "stop": "stop event (ends the run)",
    "input": "input required (goes to a human)",
    "response": "human response (sent in from outside)",
    "external": "the caller answering",
}


def _attribute(value: object) -> str:
    return html.escape(str(value), quote=True)


def _node_shape(node: _Node, box: _Box, fill: str, stroke: str) -> str:
    x, y, w, h = box.x, box.y, box.width, _NODE_HEIGHT
    paint = f'fill="{fill}" stroke="{stroke}"'
    paint += ' stroke-width="3"' if node.kind == "stop" else ' stroke-width="1.5"'
    if not node.ran:
        paint += ' stroke-dasharray="5 4"'
    if node.kind == "step":
        return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" rx="6" {paint}/>'
    if node.kind in ("input", "response"):
        skew = 10
        points = [(x + skew, y), (x + w, y), (x + w - skew, y + h), (x, y + h)]
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


def _edge_paths(graph: _Graph, boxes: dict[str, _Box]) -> tuple[list[str], float]:
    """SVG path data for each edge, and the rightmost x they reach. Downward edges are
    curves from the bottom of one node to the top of the next; an edge going back up (a
    loop) climbs in a lane of its own, right of every node it passes, so it crosses none."""
    paths: list[str] = []
    rightmost = max((box.x + box.width for box in boxes.values()), default=0.0)
    lanes = 0
    for edge in graph.edges:
        source, target = boxes[edge.source], boxes[edge.target]
        if target.layer > source.layer:
            x1, y1, x2, y2 = source.center_x, source.bottom, target.center_x, target.y
            bend = (y2 - y1) / 2
            paths.append(
                f"M{x1:.1f},{y1:.1f} "
                f"C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}"
            )
            continue
        # Leave upwards into the gap above the source's row, where no node is; go right
        # to this edge's lane; climb; come back left in the gap below the target's row and
        # enter the target from below. A sideways edge stays in the gap above its row.
        offset = 10 + 7 * (lanes % 6)
        lanes += 1
        # Off-centre ends keep loops apart from the downward edges at the centres.
        x1, y1 = source.x + source.width * 0.8, source.y
        x2 = target.x + target.width * (0.2 if target.layer == source.layer else 0.8)
        if target.layer == source.layer:
            paths.append(f"M{x1:.1f},{y1:.1f} V{y1 - offset:.1f} H{x2:.1f} V{target.y:.1f}")
            continue
        passed = [b.x + b.width for b in boxes.values() if target.layer <= b.layer <= source.layer]
        lane = max(passed) + 8 + 10 * lanes
        rightmost = max(rightmost, lane)
        y2 = target.bottom
        paths.append(
            f"M{x1:.1f},{y1:.1f} V{y1 - offset:.1f} H{lane:.1f} V{y2 + offset:.1f} "
            f"H{x2:.1f} V{y2:.1f}"
        )
    return paths, rightmost


def _render_svg(graph: _Graph, max_label_length: int | None) -> str:
    boxes, width, height = _layout(graph, max_label_length)
    paths, rightmost = _edge_paths(graph, boxes)
    width = max(width, rightmost + _MARGIN)
    parts = [
        f'<svg class="workflow-graph" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{_attribute(graph.workflow_name)} step graph">',
        '<defs><marker id="agentflow-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker></defs>',
    ]
    for edge, path in zip(graph.edges, paths, strict=True):
        source, target = graph.nodes[edge.source], graph.nodes[edge.target]
        dash = "" if edge.ran else ' stroke-dasharray="5 4" opacity="0.5"'
        parts.append(
            f'<path class="edge" data-source="{edge.source}" data-target="{edge.target}" '
            f'd="{path}" fill="none" '
            f'stroke="#475569" stroke-width="1.4" marker-end="url(#agentflow-arrow)"{dash}>'
            f"<title>{html.escape(source.label)} → {html.escape(target.label)}</title></path>"
        )
    for node_id, node in graph.nodes.items():
        box = boxes[node_id]
        fill, stroke = _FILL[node.kind] if node.ran else ("#f8fafc", "#94a3b8")
        state = "ran" if node.ran else "not-run"
        extra = "" if node.executions is None else f' data-executions="{node.executions}"'
        if not node.ran:
            extra += ' opacity="0.6"'
        parts.append(
            f'<g class="node {node.kind} {state}" data-id="{node_id}"{extra}>'
            f"<title>{html.escape(node.tooltip)}</title>"
            f"{_node_shape(node, box, fill, stroke)}"
            f'<text x="{box.center_x:.1f}" y="{box.y + _NODE_HEIGHT / 2:.1f}" '
            f'text-anchor="middle" dominant-baseline="central" '
            f'fill="{"#0f172a" if node.ran else "#64748b"}">'
            f"{html.escape(node.text(max_label_length))}</text></g>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


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


def _render_page(graph: _Graph, subtitle: str, max_label_length: int | None) -> str:
    name = html.escape(graph.workflow_name)
    steps = len(graph.step_ids)
    events = sum(1 for node in graph.nodes.values() if node.kind not in ("step", "external"))
    kinds = {node.kind for node in graph.nodes.values()}
    legend = "".join(
        f'<li><span style="background:{_FILL[kind][0]};border-color:{_FILL[kind][1]}">'
        f"</span>{html.escape(_KIND_NAMES[kind])}</li>"
        for kind in _KIND_NAMES
        if kind in kinds
    )
    executions = ""
    if any(node.executions is not None for node in graph.nodes.values()):
        rows = "".join(
            f"<tr><td>{html.escape(step_name)}</td><td>{graph.nodes[node_id].executions}</td></tr>"
            for step_name, node_id in graph.step_ids.items()
        )
        legend += (
            '<li><span style="background:#f8fafc;border-color:#94a3b8;border-style:dashed">'
            "</span>not reached in this run</li>"
        )
        executions = (
            "<table><thead><tr><th>step</th><th>times started</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    mermaid = html.escape(_render_mermaid(graph, max_label_length))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{name}: {html.escape(subtitle)}</title>\n"
        f"<style>{_PAGE_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{name}: {html.escape(subtitle)}</h1>\n"
        f'<p class="summary">{steps} step{"s" * (steps != 1)}, '
        f"{events} event type{'s' * (events != 1)}</p>\n"
        f'<div class="graph">\n{_render_svg(graph, max_label_length)}\n</div>\n'
        f'<ul class="legend">{legend}</ul>\n{executions}\n'
        "<details><summary>Mermaid source</summary>\n"
        f'<pre class="mermaid-source">{mermaid}</pre>\n</details>\n'
        "</body>\n</html>\n"
    )


def _write_page(page: str, filename: str | os.PathLike[str], notebook: bool) -> str:
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
