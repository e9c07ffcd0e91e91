"""The results table: agentflow beside LlamaIndex Workflows and the bare-asyncio floor.

One row per scenario. Each engine's cell is a median, or text saying why there is none
("n/a", "error: ..."). The ratio columns divide agentflow's number by the peer's and the
floor's in the row's own unit, so whether smaller is better depends on the unit; the target
column spells the direction out, and the last column says whether agentflow meets it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

TIMES = "\N{MULTIPLICATION SIGN}"
"""Marks a ratio: "0.1" followed by it reads "0.1 times"."""

COLUMNS = (
    "scenario",
    "metric/unit",
    "agentflow",
    "llama-index-workflows",
    "floor",
    "agentflow/peer",
    "agentflow/floor",
    "target",
    "met",
)


def format_number(value: float) -> str:
    """Three significant figures or so, with thousands separators for big numbers."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


@dataclass(frozen=True)
class Cell:
    """One engine's result in a row: a median, or text saying why there is none."""

    value: float | None = None
    """The median over repetitions, in the row's unit."""
    note: str = ""
    """Shown instead of a number when `value` is None."""

    def render(self) -> str:
        """The cell's text in the table."""
        return self.note if self.value is None else format_number(self.value)


@dataclass(frozen=True)
class Bound:
    """A limit agentflow's number must respect, absolute or relative to another engine."""

    relation: Literal["<=", ">="]
    """Whether agentflow's number must be at most or at least the limit."""
    limit: float
    """The limit itself, or the factor applied to the other engine's number."""
    relative_to: Literal["peer", "floor"] | None = None
    """The engine the limit is a multiple of; None for an absolute limit in the row's unit."""

    def describe(self, unit: str) -> str:
        """The bound as the target column shows it, e.g. "≤ 0.1 times the peer"."""
        sign = "≤" if self.relation == "<=" else "≥"
        if self.relative_to is None:
            return f"{sign} {self.limit:,g} {unit}"
        return f"{sign} {self.limit:g}{TIMES} {self.relative_to}"

    def holds(self, agentflow: float, peer: float | None, floor: float | None) -> bool | None:
        """Whether the bound holds; None when the engine it refers to has no number."""
        reference = {"peer": peer, "floor": floor, None: 1.0}[self.relative_to]
        if reference is None:
            return None
        limit = self.limit * reference
        return agentflow <= limit if self.relation == "<=" else agentflow >= limit


@dataclass(frozen=True)
class RowResult:
    """A measured row of the table."""

    scenario: str
    """What ran, with its size, e.g. "fanout N=2,000"."""
    unit: str
    """What the numbers count, e.g. "events/s"."""
    agentflow: Cell
    """agentflow's result."""
    peer: Cell
    """LlamaIndex Workflows' result."""
    floor: Cell
    """The bare-asyncio floor's result."""
    bounds: tuple[Bound, ...] = ()
    """Targets for agentflow; all must hold."""

    def ratio_to(self, other: Cell) -> str:
        """agentflow's number divided by `other`'s, or "—" when either is missing."""
        if self.agentflow.value is None or not other.value:
            return "—"
        return f"{format_number(self.agentflow.value / other.value)}{TIMES}"

    def verdict(self) -> str:
        """ "yes" if agentflow meets every bound, "NO" if it misses one, "?" if unknown."""
        if not self.bounds:
            return ""
        if self.agentflow.value is None:
            return "?"
        checks = [
            bound.holds(self.agentflow.value, self.peer.value, self.floor.value)
            for bound in self.bounds
        ]
        if False in checks:
            return "NO"
        return "?" if None in checks else "yes"

    def cells(self) -> tuple[str, ...]:
        """The row's text, one string per column of `COLUMNS`."""
        return (
            self.scenario,
            self.unit,
            self.agentflow.render(),
            self.peer.render(),
            self.floor.render(),
            self.ratio_to(self.peer),
            self.ratio_to(self.floor),
            ", ".join(bound.describe(self.unit) for bound in self.bounds) or "—",
            self.verdict(),
        )


def format_table(rows: list[RowResult]) -> str:
    """The rows as a pipe-separated table with aligned columns."""
    return aligned_table([COLUMNS, *(row.cells() for row in rows)])


def aligned_table(lines: Sequence[Sequence[str]]) -> str:
    """`lines` (the header first) as a pipe-separated table, each column as wide as its
    widest cell, with a rule under the header."""
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]

    def join(line: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(text.ljust(width) for text, width in zip(line, widths, strict=True))
            + " |"
        )

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([join(lines[0]), rule, *(join(line) for line in lines[1:])])
