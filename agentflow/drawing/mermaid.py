"""A drawing's scene as Mermaid `flowchart` text, for pasting into docs and notebooks.

Each node kind has its own shape and class (steps boxes, events stadiums, human events
parallelograms, the external party a hexagon, resources cylinders, configs trapezoids);
an edge with a label (a resource's parameter name, a step's `wait_for_event` or
`waiter_event`) carries it on the arrow. In an execution drawing, what the run never
reached uses the dashed `notRunStyle` class and dotted arrows.
"""

from __future__ import annotations

from agentflow.drawing.scene import NodeKind, Scene

_MERMAID_SHAPES: dict[NodeKind, tuple[str, str]] = {
    "step": ("[", "]"),
    "event": ("([", "])"),
    "start": ("([", "])"),
    "stop": ("([", "])"),
    "input": ("[/", "/]"),
    "response": ("[/", "/]"),
    "external": ("{{", "}}"),
    "resource": ("[(", ")]"),
    "config": ("[/", "\\]"),
    "other": (">", "]"),
}
_MERMAID_CLASSES: dict[NodeKind, str] = {
    "step": "stepStyle",
    "event": "eventStyle",
    "start": "startEventStyle",
    "stop": "stopEventStyle",
    "input": "humanEventStyle",
    "response": "humanEventStyle",
    "external": "externalStyle",
    "resource": "resourceStyle",
    "config": "configStyle",
    "other": "otherStyle",
}
_MERMAID_CLASS_DEFS = (
    "classDef stepStyle fill:#dbeafe,stroke:#1d4ed8,color:#0f172a",
    "classDef eventStyle fill:#dcfce7,stroke:#15803d,color:#0f172a",
    "classDef startEventStyle fill:#f5d0fe,stroke:#a21caf,color:#0f172a",
    "classDef stopEventStyle fill:#fed7aa,stroke:#c2410c,stroke-width:3px,color:#0f172a",
    "classDef humanEventStyle fill:#fef9c3,stroke:#a16207,color:#0f172a",
    "classDef externalStyle fill:#e2e8f0,stroke:#475569,color:#0f172a",
    "classDef resourceStyle fill:#ede9fe,stroke:#6d28d9,color:#0f172a",
    "classDef configStyle fill:#e0f2fe,stroke:#0369a1,color:#0f172a",
    "classDef otherStyle fill:#f1f5f9,stroke:#334155,color:#0f172a",
    "classDef notRunStyle fill:#f8fafc,stroke:#94a3b8,color:#94a3b8,stroke-dasharray:5 5",
)


def render_mermaid(scene: Scene, max_label_length: int | None) -> str:
    """`scene` as Mermaid text, labels cut to `max_label_length` when one is given."""
    lines = ["flowchart TD", f"    %% {_mermaid_label(scene.workflow_name)}"]
    for node in scene.nodes.values():
        opening, closing = _MERMAID_SHAPES[node.kind]
        css_class = _MERMAID_CLASSES[node.kind] if node.ran else "notRunStyle"
        label = _mermaid_label(node.text(max_label_length))
        lines.append(f'    {node.id}{opening}"{label}"{closing}:::{css_class}')
    for edge in scene.edges:
        arrow = "-->" if edge.ran else "-.->"
        if edge.label is not None:
            arrow += f'|"{_mermaid_label(edge.label)}"|'
        lines.append(f"    {edge.source} {arrow} {edge.target}")
    lines.extend(f"    {class_def}" for class_def in _MERMAID_CLASS_DEFS)
    return "\n".join(lines) + "\n"


def _mermaid_label(text: str) -> str:
    # Inside a quoted Mermaid label only entity codes are safe for these characters.
    return "".join(
        f"#{ord(char)};" if char in '"#<>&`' else (" " if char in "\r\n" else char) for char in text
    )
