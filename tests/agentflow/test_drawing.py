"""agentflow.drawing: the Mermaid text and the offline HTML page for every possible flow,
and for what one run executed."""

# No `from __future__ import annotations` here: some workflows below annotate steps with
# event classes made at run time, which only work as evaluated annotations.

import html
import re
from pathlib import Path
from typing import Annotated

import pytest

from agentflow import Context, Workflow, step
from agentflow.drawing import (
    draw_all_possible_flows,
    draw_all_possible_flows_mermaid,
    draw_most_recent_execution,
    draw_most_recent_execution_mermaid,
)
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
)
from agentflow.resource import Resource


class Query(Event):
    text: str


class Retry(Event):
    attempt: int


class AskUser(InputRequiredEvent):
    pass


class UserReply(HumanResponseEvent):
    pass


class Answer(StopEvent):
    text: str


class ResearchFlow(Workflow):
    """A branch (begin emits Query or AskUser), a loop (search -> Retry -> search), a human
    round trip (AskUser -> external -> UserReply) and a custom StopEvent."""

    @step
    async def begin(self, ev: StartEvent) -> Query | AskUser:
        if ev.get("ask"):
            return AskUser(prefix="Topic? ")
        return Query(text=ev.topic)

    @step
    async def search(self, ev: Query | Retry) -> Retry | Answer:
        attempt = ev.attempt + 1 if isinstance(ev, Retry) else 1
        if attempt < 3:
            return Retry(attempt=attempt)
        return Answer(text=f"found after {attempt}")

    @step
    async def hear(self, ev: UserReply) -> Query:
        return Query(text=ev.response)


TIMES = "\u00d7"
"""The multiplication sign that execution drawings put before a step's run count."""

NODE = re.compile(
    r'^    (\w+)(\(\[|\[/|\[\(|\[|\{\{)"([^"]*)"(\]\)|/\]|\\\]|\)\]|\]|\}\}):::(\w+)$'
)
EDGE = re.compile(r'^    (\w+) (-->|-\.->)(\|"[^"]*"\|)? (\w+)$')


def parse_mermaid(text: str) -> tuple[dict[str, tuple[str, str]], set[tuple[str, str, str]]]:
    """Nodes as {id: (label, css class)} and edges as {(source label, arrow, target
    label)}, an edge's label part of its arrow (`-->|"db"|`); fails on any line that is
    neither, nor a header, comment or classDef."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes: dict[str, tuple[str, str]] = {}
    raw_edges: list[tuple[str, str, str]] = []
    for line in lines[1:]:
        if line.startswith(("    %%", "    classDef ")):
            continue
        if node := NODE.match(line):
            node_id, _, label, _, css_class = node.groups()
            assert node_id not in nodes, f"node {node_id} declared twice"
            nodes[node_id] = (label, css_class)
        elif edge := EDGE.match(line):
            source, arrow, label, target = edge.groups()
            raw_edges.append((source, arrow + (label or ""), target))
        else:
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    edges = {(nodes[a][0], arrow, nodes[b][0]) for a, arrow, b in raw_edges}
    assert len(edges) == len(raw_edges), "an edge is drawn twice"
    return nodes, edges


def test_mermaid_has_every_step_and_event_type_with_its_style() -> None:
    nodes, _ = parse_mermaid(draw_all_possible_flows_mermaid(ResearchFlow))
    assert sorted(nodes.values()) == sorted(
        [
            ("begin", "stepStyle"),
            ("search", "stepStyle"),
            ("hear", "stepStyle"),
            ("StartEvent", "startEventStyle"),
            ("Query", "eventStyle"),
            ("Retry", "eventStyle"),
            ("Answer", "stopEventStyle"),
            ("AskUser", "humanEventStyle"),
            ("UserReply", "humanEventStyle"),
            ("external_step", "externalStyle"),
        ]
    )


def test_mermaid_edges_go_from_accepted_events_to_steps_and_from_steps_to_emitted_events() -> None:
    _, edges = parse_mermaid(draw_all_possible_flows_mermaid(ResearchFlow))
    assert edges == {
        ("StartEvent", "-->", "begin"),
        ("begin", "-->", "Query"),
        ("begin", "-->", "AskUser"),
        ("Query", "-->", "search"),
        ("Retry", "-->", "search"),
        ("search", "-->", "Retry"),
        ("search", "-->", "Answer"),
        ("UserReply", "-->", "hear"),
        ("hear", "-->", "Query"),
        ("AskUser", "-->", "external_step"),
        ("external_step", "-->", "UserReply"),
    }


def test_a_workflow_instance_draws_the_same_as_its_class() -> None:
    assert draw_all_possible_flows_mermaid(ResearchFlow()) == draw_all_possible_flows_mermaid(
        ResearchFlow
    )


class Note(Event):
    pass


class Watcher(Workflow):
    """`observe` accepts the base Event: the runtime routes every event to it, StartEvent
    and Note included, but a returned StopEvent ends the run instead of being routed."""

    @step
    async def begin(self, ev: StartEvent) -> Note:
        return Note()

    @step
    async def observe(self, ev: Event) -> StopEvent | None:
        return StopEvent(result="seen") if isinstance(ev, Note) else None


def test_edges_follow_subclass_routing_but_not_into_the_stop_event() -> None:
    _, edges = parse_mermaid(draw_all_possible_flows_mermaid(Watcher))
    into_observe = {source for source, _, target in edges if target == "observe"}
    assert into_observe == {"Event", "StartEvent", "Note"}
    assert ("observe", "-->", "StopEvent") in edges


def make_odd_workflow() -> type[Workflow]:
    """Event classes whose names Mermaid cannot take as ids (quotes, spaces, `<>`, the
    keyword `end`), two classes sharing one name, and a step called `end`."""
    weird = type('Weird "name" <x> & #1', (Event,), {"__module__": "odd"})
    keyword = type("end", (Event,), {"__module__": "odd"})
    twin_a = type("Twin", (Event,), {"__module__": "odd.first"})
    twin_b = type("Twin", (Event,), {"__module__": "odd.second"})

    class OddFlow(Workflow):
        @step
        async def begin(self, ev: StartEvent) -> weird | twin_a:  # type: ignore[valid-type]
            return weird()

        @step
        async def middle(self, ev: weird) -> keyword:  # type: ignore[valid-type]
            return keyword()

        @step
        async def twin(self, ev: twin_a) -> twin_b:  # type: ignore[valid-type]
            return twin_b()

        @step
        async def last(self, ev: twin_b) -> StopEvent:  # type: ignore[valid-type]
            return StopEvent()

    async def finish(ev: keyword) -> StopEvent:  # type: ignore[valid-type]
        return StopEvent(result="done")

    finish.__name__ = "end"
    step(workflow=OddFlow)(finish)
    return OddFlow


def test_odd_names_get_unique_valid_ids_and_escaped_labels() -> None:
    text = draw_all_possible_flows_mermaid(make_odd_workflow())
    nodes, edges = parse_mermaid(text)
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", node_id) for node_id in nodes)
    assert "end" not in nodes  # a bare `end` closes a Mermaid subgraph
    labels = sorted(label for label, _ in nodes.values())
    assert "Weird #34;name#34; #60;x#62; #38; #35;1" in labels
    assert "odd.first.Twin" in labels
    assert "odd.second.Twin" in labels
    assert ("end", "-->", "end") in edges  # the event class `end` goes to the step `end`
    assert ("odd.first.Twin", "-->", "twin") in edges
    assert ("twin", "-->", "odd.second.Twin") in edges


def test_long_labels_are_cut_when_asked() -> None:
    nodes, _ = parse_mermaid(draw_all_possible_flows_mermaid(ResearchFlow, max_label_length=5))
    assert ("Star…", "startEventStyle") in nodes.values()
    assert ("begin", "stepStyle") in nodes.values()


def test_mermaid_is_written_to_a_file_when_a_filename_is_given(tmp_path: Path) -> None:
    target = tmp_path / "flow.mermaid"
    text = draw_all_possible_flows_mermaid(ResearchFlow, filename=target)
    assert target.read_text(encoding="utf-8") == text


SVG_NODE = re.compile(r'<g class="node (\w+) (ran|not-run)" data-id="(\w+)"([^>]*)>')
SVG_EDGE = re.compile(r'<path class="edge" data-source="(\w+)" data-target="(\w+)"')
TEXT_Y = re.compile(r'data-id="(\w+)"[^>]*>.*?<text x="[\d.]+" y="([\d.]+)"', re.S)


def read_page(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def assert_offline(page: str) -> None:
    assert "http" not in page.lower()
    for resource in ("<script", "<link", "@import", "src=", "<iframe", "<img"):
        assert resource not in page
    assert re.findall(r"url\(([^)]*)\)", page) == ["#agentflow-arrow"] * len(
        re.findall(r"url\(", page)
    )


def test_html_page_is_self_contained_and_draws_the_same_graph(tmp_path: Path) -> None:
    path = draw_all_possible_flows(ResearchFlow, filename=tmp_path / "flows.html")
    assert path == str(tmp_path / "flows.html")
    page = Path(path).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert_offline(page)

    mermaid = draw_all_possible_flows_mermaid(ResearchFlow)
    assert html.escape(mermaid) in page  # the Mermaid source, for pasting into docs
    nodes, _ = parse_mermaid(mermaid)
    svg_nodes = {node_id: kind for kind, _, node_id, _ in SVG_NODE.findall(page)}
    assert set(svg_nodes) == set(nodes)
    assert svg_nodes["step_search"] == "step"
    assert svg_nodes["event_Answer"] == "stop"
    assert svg_nodes["event_AskUser"] == "input"
    svg_edges = set(SVG_EDGE.findall(page))
    mermaid_edges = {
        (m.group(1), m.group(4)) for line in mermaid.splitlines() if (m := EDGE.match(line))
    }
    assert svg_edges == mermaid_edges


def test_html_layout_puts_the_start_event_on_top(tmp_path: Path) -> None:
    page = Path(draw_all_possible_flows(ResearchFlow, tmp_path / "flows.html")).read_text()
    heights = {node_id: float(y) for node_id, y in TEXT_Y.findall(page)}
    assert heights["event_StartEvent"] == min(heights.values())
    assert heights["event_StartEvent"] < heights["step_begin"] < heights["event_Query"]


def test_html_with_odd_names_stays_well_formed(tmp_path: Path) -> None:
    page = Path(draw_all_possible_flows(make_odd_workflow(), tmp_path / "odd.html")).read_text()
    assert_offline(page)
    assert "Weird &quot;name&quot; &lt;x&gt; &amp; #1" in page
    assert "<x>" not in page


@pytest.mark.parametrize(
    "not_a_workflow", [42, "ResearchFlow", Query, ResearchFlow.begin], ids=repr
)
def test_drawing_something_else_than_a_workflow_names_what_it_got(
    not_a_workflow: object,
) -> None:
    with pytest.raises(TypeError, match=r"takes a Workflow subclass or instance, got"):
        draw_all_possible_flows_mermaid(not_a_workflow)  # type: ignore[arg-type]


async def test_execution_drawing_counts_each_step_and_dims_the_ones_that_never_ran(
    tmp_path: Path,
) -> None:
    handler = ResearchFlow().run(topic="otters")
    assert await handler == Answer(text="found after 3")
    nodes, edges = parse_mermaid(draw_most_recent_execution_mermaid(handler))
    assert (f"begin {TIMES}1", "stepStyle") in nodes.values()
    assert (f"search {TIMES}3", "stepStyle") in nodes.values()
    assert ("hear", "notRunStyle") in nodes.values()
    # What only the step that never ran touches is dimmed, and so are its links.
    assert ("UserReply", "notRunStyle") in nodes.values()
    assert ("UserReply", "-.->", "hear") in edges
    assert ("hear", "-.->", "Query") in edges
    assert ("Query", "-->", f"search {TIMES}3") in edges

    path = draw_most_recent_execution(handler, filename=tmp_path / "run.html")
    page = read_page(path)
    assert_offline(page)
    executions = {
        node_id: int(found.group(1))
        for _, _, node_id, attributes in SVG_NODE.findall(page)
        if (found := re.search(r'data-executions="(\d+)"', attributes))
    }
    assert executions == {"step_begin": 1, "step_search": 3, "step_hear": 0}
    states = {node_id: state for _, state, node_id, _ in SVG_NODE.findall(page)}
    assert states["step_hear"] == "not-run"
    assert states["step_search"] == "ran"
    assert f"run {handler.run_id}" in page


async def test_execution_drawing_of_a_human_in_the_loop_run() -> None:
    handler = ResearchFlow().run(ask=True)
    async for event in handler.stream_events():
        if isinstance(event, AskUser):
            handler.ctx.send_event(UserReply(response="otters"))
    await handler
    nodes, _ = parse_mermaid(draw_most_recent_execution_mermaid(handler))
    assert (f"hear {TIMES}1", "stepStyle") in nodes.values()
    assert ("external_step", "externalStyle") in nodes.values()


async def test_execution_drawing_needs_the_handler_not_the_workflow() -> None:
    with pytest.raises(TypeError, match=r"WorkflowHandler that workflow\.run\(\) returned"):
        draw_most_recent_execution_mermaid(ResearchFlow())  # type: ignore[arg-type]


class Counting(Workflow):
    @step
    async def count(self, ctx: Context, ev: StartEvent) -> StopEvent:
        return StopEvent(result=1)


async def test_default_file_names_match_llama_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert draw_all_possible_flows(Counting) == "workflow_all_flows.html"
    handler = Counting().run()
    await handler
    assert draw_most_recent_execution(handler) == "workflow_recent_execution.html"
    assert read_page("workflow_all_flows.html").startswith("<!DOCTYPE html>")
    assert read_page("workflow_recent_execution.html").startswith("<!DOCTYPE html>")


class Shelves:
    pass


def open_shelves() -> Shelves:
    """The library's catalogue."""
    return Shelves()


class Lending(Workflow):
    """A resource two steps share, and a step asking in its body with `wait_for_event`:
    neither is in a step's accepted or returned events."""

    @step
    async def lend(
        self, ctx: Context, ev: StartEvent, shelves: Annotated[Shelves, Resource(open_shelves)]
    ) -> Query:
        reply = await ctx.wait_for_event(UserReply, waiter_event=AskUser(prefix="Which? "))
        return Query(text=reply.response)

    @step
    async def note(
        self, ev: Query, catalogue: Annotated[Shelves, Resource(open_shelves)]
    ) -> StopEvent:
        return StopEvent(result=ev.text)


def test_resources_and_waits_are_drawn_in_mermaid() -> None:
    nodes, edges = parse_mermaid(draw_all_possible_flows_mermaid(Lending))
    assert ("Shelves", "resourceStyle") in nodes.values()
    assert [label for label, _ in nodes.values()].count("Shelves") == 1
    assert {edge for edge in edges if "Shelves" in edge} == {
        ("lend", '-->|"shelves"|', "Shelves"),
        ("note", '-->|"catalogue"|', "Shelves"),
    }
    assert {
        ("UserReply", '-->|"wait_for_event"|', "lend"),
        ("lend", '-->|"waiter_event"|', "AskUser"),
        ("AskUser", "-->", "external_step"),
        ("external_step", "-->", "UserReply"),
    } <= edges


def test_resources_and_waits_are_drawn_on_the_page(tmp_path: Path) -> None:
    page = read_page(draw_all_possible_flows(Lending, tmp_path / "lending.html"))
    assert_offline(page)
    kinds = {node_id: kind for kind, _, node_id, _ in SVG_NODE.findall(page)}
    resource_id = next(node_id for node_id, kind in kinds.items() if kind == "resource")
    edge_kinds = dict(
        ((source, target), kind)
        for source, target, kind in re.findall(
            r'data-source="(\w+)" data-target="(\w+)" data-kind="(\w+)"', page
        )
    )
    assert edge_kinds[("step_lend", resource_id)] == "resource"
    assert edge_kinds[("event_UserReply", "step_lend")] == "wait"
    assert edge_kinds[("step_lend", "event_AskUser")] == "wait"
    assert edge_kinds[("event_Query", "step_note")] == "flow"
    labels = re.findall(r'<text class="edge-label"[^>]*>([^<]*)</text>', page)
    assert sorted(labels) == ["catalogue", "shelves", "wait_for_event", "waiter_event"]
    assert "2 steps, 5 event types, 1 resource" in page
    assert "resource (made by a factory)" in page
    assert "waits in ctx.wait_for_event" in page


def test_a_resource_is_laid_out_below_every_step_using_it(tmp_path: Path) -> None:
    page = read_page(draw_all_possible_flows(Lending, tmp_path / "lending.html"))
    heights = {node_id: float(y) for node_id, y in TEXT_Y.findall(page)}
    kinds = {node_id: kind for kind, _, node_id, _ in SVG_NODE.findall(page)}
    resource_id = next(node_id for node_id, kind in kinds.items() if kind == "resource")
    assert heights[resource_id] > max(heights["step_lend"], heights["step_note"])
    labels = dict(
        (text, float(y))
        for y, text in re.findall(
            r'<text class="edge-label" x="[\d.]+" y="([\d.]+)"[^>]*>(\w+)<', page
        )
    )
    assert heights["step_note"] < labels["catalogue"] < heights[resource_id]


async def test_the_execution_drawing_dims_the_resources_of_steps_that_never_ran() -> None:
    handler = Lending().run()
    async for event in handler.stream_events():
        if isinstance(event, AskUser):
            handler.ctx.send_event(UserReply(response="Dune"))
    assert await handler == "Dune"
    nodes, edges = parse_mermaid(draw_most_recent_execution_mermaid(handler))
    assert ("Shelves", "resourceStyle") in nodes.values()
    assert ("UserReply", '-->|"wait_for_event"|', f"lend {TIMES}1") in edges


class Unused(Workflow):
    @step
    async def go(self, ev: StartEvent) -> StopEvent | Query:
        return StopEvent()

    @step
    async def never(
        self, ev: Query, shelves: Annotated[Shelves, Resource(open_shelves)]
    ) -> StopEvent:
        return StopEvent()


async def test_a_resource_only_a_step_that_never_ran_uses_is_dimmed() -> None:
    handler = Unused().run()
    await handler
    nodes, edges = parse_mermaid(draw_most_recent_execution_mermaid(handler))
    assert ("Shelves", "notRunStyle") in nodes.values()
    assert ("never", '-.->|"shelves"|', "Shelves") in edges
