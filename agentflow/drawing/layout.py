"""Where each node and edge of a workflow graph goes on the HTML page's SVG.

A small Sugiyama-style layout, written here so the page needs no JavaScript library and no
network: breadth-first layers from the start event down, a few barycenter sweeps to untangle
each layer, then curves for downward edges and lanes on the right for loops.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from agentflow.drawing.scene import Scene

NODE_HEIGHT = 40
"""Every node is this tall, in SVG pixels."""
MARGIN = 30
"""Space around the drawing, in SVG pixels."""
_LAYER_GAP = 70
_NODE_GAP = 36
_CHAR_WIDTH = 7.6
"""Rough width of one character at the 13px sans-serif the page uses."""


@dataclass(frozen=True, slots=True)
class NodeBox:
    """Where one node sits."""

    x: float
    """Left edge."""
    y: float
    """Top edge."""
    width: float
    """Wide enough for the node's label."""
    layer: int
    """Row, counted from the top."""

    @property
    def center_x(self) -> float:
        """Where downward edges leave and enter."""
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        """Bottom edge."""
        return self.y + NODE_HEIGHT


@dataclass(frozen=True, slots=True)
class GraphLayout:
    """A laid-out graph: a box per node, an SVG path per edge, and the size of it all."""

    boxes: dict[str, NodeBox]
    """Node id -> its box."""
    edge_paths: list[str]
    """SVG path data, one per edge of the graph, in the graph's edge order."""
    edge_label_points: list[tuple[float, float]]
    """Where on each edge its label goes, in the same order: three quarters down a
    downward curve, on the bottom run of a loop."""
    width: float
    """Of the whole drawing, margins and loop lanes included."""
    height: float
    """Of the whole drawing, margins included."""


def lay_out(scene: Scene, max_label_length: int | None) -> GraphLayout:
    """Boxes for `scene`'s nodes, sized for their labels cut to `max_label_length`, and
    paths for its edges."""
    layers = _assign_layers(scene)
    rows = _order_layers(scene, layers)
    widths = {
        node_id: max(90.0, len(node.text(max_label_length)) * _CHAR_WIDTH + 32)
        for node_id, node in scene.nodes.items()
    }
    row_widths = [sum(widths[n] for n in row) + _NODE_GAP * (len(row) - 1) for row in rows]
    content_width = max(row_widths, default=0.0)
    boxes: dict[str, NodeBox] = {}
    for index, row in enumerate(rows):
        x = MARGIN + (content_width - row_widths[index]) / 2
        y = MARGIN + index * (NODE_HEIGHT + _LAYER_GAP)
        for node_id in row:
            boxes[node_id] = NodeBox(x, y, widths[node_id], index)
            x += widths[node_id] + _NODE_GAP
    height = len(rows) * (NODE_HEIGHT + _LAYER_GAP) - _LAYER_GAP + 2 * MARGIN
    paths, label_points, rightmost = _edge_paths(scene, boxes)
    width = max(content_width + 2 * MARGIN, rightmost + MARGIN)
    return GraphLayout(boxes, paths, label_points, width, max(height, 2 * MARGIN))


def _assign_layers(scene: Scene) -> dict[str, int]:
    """Breadth-first layers from the start events (then from any node nothing points to),
    so the main path reads top to bottom and a loop shows as an edge going back up; then
    each resource goes below the last step using it, so no edge to a resource climbs."""
    successors: dict[str, list[str]] = {node_id: [] for node_id in scene.nodes}
    has_incoming: set[str] = set()
    for edge in scene.edges:
        successors[edge.source].append(edge.target)
        has_incoming.add(edge.target)
    layers: dict[str, int] = {}
    order = list(scene.nodes)
    while len(layers) < len(order):
        unplaced = [node_id for node_id in order if node_id not in layers]
        roots = [n for n in unplaced if scene.nodes[n].kind == "start"] or [
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
    users: dict[str, list[str]] = {}
    for edge in scene.edges:
        if edge.kind == "resource":
            users.setdefault(edge.target, []).append(edge.source)
    for node_id in order:  # in model order, a resource comes before those it needs
        if node_id in users:
            layers[node_id] = max(layers[user] for user in users[node_id]) + 1
    return layers


def _order_layers(scene: Scene, layers: dict[str, int]) -> list[list[str]]:
    """Nodes of each layer left to right; each node moves towards the mean position of
    its neighbours in the layers above (then below), which removes most crossings."""
    rows: list[list[str]] = [[] for _ in range(max(layers.values(), default=-1) + 1)]
    for node_id in scene.nodes:
        rows[layers[node_id]].append(node_id)
    neighbours: dict[str, list[str]] = {node_id: [] for node_id in scene.nodes}
    for edge in scene.edges:
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


def _edge_paths(
    scene: Scene, boxes: dict[str, NodeBox]
) -> tuple[list[str], list[tuple[float, float]], float]:
    """SVG path data for each edge, where its label goes, and the rightmost x they reach.
    Downward edges are curves from the bottom of one node to the top of the next; an edge
    going back up (a loop) climbs in a lane of its own, right of every node it passes, so
    it crosses none."""
    paths: list[str] = []
    label_points: list[tuple[float, float]] = []
    rightmost = max((box.x + box.width for box in boxes.values()), default=0.0)
    lanes = 0
    for edge in scene.edges:
        source, target = boxes[edge.source], boxes[edge.target]
        if target.layer > source.layer:
            x1, y1, x2, y2 = source.center_x, source.bottom, target.center_x, target.y
            bend = (y2 - y1) / 2
            paths.append(
                f"M{x1:.1f},{y1:.1f} "
                f"C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}"
            )
            # Three quarters down the curve, where edges leaving one node have parted.
            label_points.append((0.15625 * x1 + 0.84375 * x2, 0.296875 * y1 + 0.703125 * y2))
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
            label_points.append(((x1 + x2) / 2, y1 - offset))
            continue
        passed = [b.x + b.width for b in boxes.values() if target.layer <= b.layer <= source.layer]
        lane = max(passed) + 8 + 10 * lanes
        rightmost = max(rightmost, lane)
        y2 = target.bottom
        paths.append(
            f"M{x1:.1f},{y1:.1f} V{y1 - offset:.1f} H{lane:.1f} V{y2 + offset:.1f} "
            f"H{x2:.1f} V{y2:.1f}"
        )
        label_points.append(((x2 + lane) / 2, y2 + offset))
    return paths, label_points, rightmost
