"""agentflow.representation: `get_workflow_representation` and the node and edge models of
llama-index-workflows 2.26.1's `workflows.representation`, checked against the reference
itself on the same programs (tests/agentflow/representation_programs.py)."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Annotated, Any, get_args

import pytest
from representation_programs import NESTED_RESOURCES, REVIEW, WAITING, load_program
from test_llamaindex_compat import ENGINES, reference_installed

import agentflow.representation as representation
import agentflow.resource
from agentflow import Workflow, step
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.representation import (
    WAIT_EDGE_LABEL,
    WAITER_EDGE_LABEL,
    WorkflowEventNode,
    WorkflowGenericNode,
    WorkflowGraph,
    WorkflowGraphEdge,
    WorkflowResourceConfigNode,
    WorkflowResourceNode,
    WorkflowStepNode,
    get_workflow_representation,
)
from agentflow.representation.resource_nodes import descriptor_node
from agentflow.resource import Resource

needs_reference = pytest.mark.skipif(
    not reference_installed(), reason="llama-index-workflows 2.26.1 is not installed"
)

BUILT_IN_EVENTS = {"StartEvent", "StopEvent", "InputRequiredEvent", "HumanResponseEvent"}


def engine_module(engine: str) -> Any:
    """`workflows.representation` or `agentflow.representation`."""
    if engine == "workflows":
        import workflows.representation

        return workflows.representation
    return representation


def graph_of(
    source: str, engine: str, class_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    module = load_program(source, engine, tmp_path / "program.py", monkeypatch)
    return engine_module(engine).get_workflow_representation(getattr(module, class_name))


def comparable(graph: Any, engine: str) -> dict[str, Any]:
    """The graph as JSON, with only what each engine must say differently taken out: an
    event's `event_schema` is pydantic's schema of that engine's class, so the built-in
    events' schemas carry each engine's own docstrings; agentflow's StopEvent declares
    `result` as a field (the reference keeps it private), which its subclasses' schemas
    list; and agentflow events accept extra fields, which pydantic writes as
    `additionalProperties: true`. Each built-in's schema is first checked to be its own."""
    dumped: dict[str, Any] = json.loads(graph.model_dump_json())
    events = vars(importlib.import_module(f"{engine}.events"))
    for node in dumped["nodes"]:
        if node["node_type"] != "event":
            continue
        schema = node["event_schema"]
        if node["event_type"] in BUILT_IN_EVENTS:
            assert schema == events[node["event_type"]].model_json_schema()
            node["event_schema"] = "the engine's own"
        else:
            schema.pop("additionalProperties", None)
            if "StopEvent" in node["event_types"]:
                schema["properties"].pop("result", None)
    return dumped


def test_the_reference_names_are_exported() -> None:
    expected = {
        "WorkflowNodeBase",
        "WorkflowStepNode",
        "WorkflowEventNode",
        "WorkflowExternalNode",
        "WorkflowResourceNode",
        "WorkflowResourceConfigNode",
        "WorkflowGenericNode",
        "WorkflowGraphNode",
        "WorkflowGraphEdge",
        "WorkflowGraph",
        "get_workflow_representation",
    }
    assert expected <= set(representation.__all__)
    assert all(hasattr(representation, name) for name in expected)


@needs_reference
def test_every_model_has_the_reference_s_fields_and_defaults() -> None:
    import workflows.representation as reference

    def fields(model: Any) -> dict[str, tuple[bool, Any]]:
        return {
            name: (field.is_required(), None if field.is_required() else field.get_default())
            for name, field in model.model_fields.items()
        }

    for name in reference.__all__:
        theirs, ours = getattr(reference, name), getattr(representation, name)
        if name == "WorkflowGraphNode":
            assert [t.__name__ for t in get_args(ours)] == [t.__name__ for t in get_args(theirs)]
        elif inspect.isclass(theirs):
            assert fields(ours) == fields(theirs), name
            assert [base.__name__ for base in ours.__mro__[1:-3]] == [
                base.__name__ for base in theirs.__mro__[1:-3]
            ], name


@pytest.mark.parametrize("engine", ENGINES)
def test_a_representation_round_trips_through_json(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = graph_of(REVIEW, engine, "Review", tmp_path, monkeypatch)
    models = engine_module(engine)
    again = models.WorkflowGraph.model_validate_json(graph.model_dump_json())
    assert again == graph
    assert [type(node).__name__ for node in again.nodes] == [
        type(node).__name__ for node in graph.nodes
    ]
    assert {type(node).__name__ for node in again.nodes} == {
        "WorkflowStepNode",
        "WorkflowEventNode",
        "WorkflowExternalNode",
        "WorkflowResourceNode",
    }


@needs_reference
@pytest.mark.parametrize(("source", "class_name"), [(REVIEW, "Review"), (WAITING, "Interview")])
def test_the_representation_equals_the_reference_s(
    source: str, class_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = graph_of(source, "workflows", class_name, tmp_path, monkeypatch)
    ours = graph_of(source, "agentflow", class_name, tmp_path, monkeypatch)
    assert comparable(ours, "agentflow") == comparable(theirs, "workflows")


def test_resource_nodes_name_the_factory_its_source_and_the_parameters_using_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_program(REVIEW, "agentflow", tmp_path / "program.py", monkeypatch)
    graph = get_workflow_representation(module.Review)
    resources = {
        node.getter_name: node for node in graph.nodes if isinstance(node, WorkflowResourceNode)
    }
    assert set(resources) == {"open_database", "make_model"}
    database = resources["open_database"]
    assert (database.label, database.type_name) == ("Database", "Database")
    assert database.source_file == str(tmp_path / "program.py")
    assert database.source_line == inspect.getsourcelines(module.open_database)[1]
    assert database.description == "Connects to the review database."
    assert resources["make_model"].description is None
    using = {(edge.source, edge.label) for edge in graph.edges if edge.target == database.id}
    assert using == {("draft", "db"), ("decide", "db")}


@needs_reference
def test_a_config_node_holds_what_the_reference_s_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read from the reference's own ResourceConfig: the names the issue's API gives it
    (config_file, path_selector, label, description) are all the node needs."""
    from typing import get_type_hints

    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.json").write_text('{"db": {"url": "sqlite://"}}', encoding="utf-8")
    module = load_program(NESTED_RESOURCES, "workflows", tmp_path / "program.py", monkeypatch)
    theirs = next(
        node
        for node in engine_module("workflows").get_workflow_representation(module.Store).nodes
        if node.node_type == "resource_config"
    )
    config = get_type_hints(module.open_pool, include_extras=True)["settings"].__metadata__[0]
    ours = descriptor_node(config, module.Settings)
    assert ours.model_dump() == theirs.model_dump()
    assert ours.config_value == {"url": "sqlite://"}


@needs_reference
@pytest.mark.skipif(
    not hasattr(agentflow.resource, "ResourceConfig"),
    reason="agentflow.resource has no ResourceConfig and no factories taking resources yet",
)
def test_nested_resources_and_configs_equal_the_reference_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.json").write_text('{"db": {"url": "sqlite://"}}', encoding="utf-8")
    theirs = graph_of(NESTED_RESOURCES, "workflows", "Store", tmp_path, monkeypatch)
    ours = graph_of(NESTED_RESOURCES, "agentflow", "Store", tmp_path, monkeypatch)
    assert comparable(ours, "agentflow") == comparable(theirs, "workflows")


class Pool:
    pass


class Repository:
    pass


def open_pool() -> Pool:
    return Pool()


class Needing(Resource[Repository]):
    """A resource whose factory takes another: it lists it, as `dependencies()`."""

    def dependencies(self) -> list[tuple[str, Resource[Pool]]]:
        return [("pool", POOL)]


POOL = Resource(open_pool)


def make_repository(pool: Annotated[Pool, POOL]) -> Repository:
    return Repository()


class Saving(Workflow):
    @step
    async def save(
        self,
        ev: StartEvent,
        repository: Annotated[Repository, Needing(make_repository)],
        pool: Annotated[Pool, POOL],
    ) -> StopEvent:
        return StopEvent()


def test_a_resource_needing_another_links_to_it_and_each_is_drawn_once() -> None:
    graph = get_workflow_representation(Saving)
    resources = {node.label: node.id for node in graph.nodes if node.node_type == "resource"}
    assert list(resources) == ["Repository", "Pool"]
    resource_edges = [
        (edge.source, edge.target, edge.label)
        for edge in graph.edges
        if edge.target in resources.values()
    ]
    assert resource_edges == [
        (resources["Repository"], resources["Pool"], "pool"),
        ("save", resources["Repository"], "repository"),
        ("save", resources["Pool"], "pool"),
    ]


def test_a_step_s_waits_are_drawn_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_program(WAITING, "agentflow", tmp_path / "program.py", monkeypatch)
    plain = get_workflow_representation(module.Interview)
    assert {node.id for node in plain.nodes} == {"interview", "StartEvent", "StopEvent"}
    waits = get_workflow_representation(module.Interview, include_waits=True)
    assert {(node.id, node.node_type) for node in waits.nodes} == {
        ("interview", "step"),
        ("StartEvent", "event"),
        ("StopEvent", "event"),
        ("Question", "event"),
        ("Answer", "event"),
        ("Approval", "event"),
        ("external_step", "external"),
    }
    added = {(e.source, e.target, e.label) for e in waits.edges} - {
        (e.source, e.target, e.label) for e in plain.edges
    }
    assert added == {
        ("interview", "Question", WAITER_EDGE_LABEL),
        ("Question", "external_step", None),
        ("external_step", "Answer", None),
        ("Answer", "interview", WAIT_EDGE_LABEL),
        ("Approval", "interview", WAIT_EDGE_LABEL),
    }
    question = next(node for node in waits.nodes if node.id == "Question")
    assert isinstance(question, WorkflowEventNode)
    assert question.event_types == ["Question", "InputRequiredEvent"]
    assert question.produced_by == []


def test_a_step_whose_source_cannot_be_read_has_no_waits_drawn() -> None:
    namespace: dict[str, Any] = {}
    exec(  # a REPL or a notebook cell: inspect cannot find the source
        "from agentflow import Context, Workflow, step\n"
        "from agentflow.events import StartEvent, StopEvent, Event\n"
        "class Later(Event):\n    pass\n"
        "class Hidden(Workflow):\n"
        "    @step\n"
        "    async def go(self, ctx: Context, ev: StartEvent) -> StopEvent:\n"
        "        await ctx.wait_for_event(Later)\n"
        "        return StopEvent()\n",
        namespace,
    )
    graph = get_workflow_representation(namespace["Hidden"], include_waits=True)
    assert {node.id for node in graph.nodes} == {"go", "StartEvent", "StopEvent"}


@pytest.mark.parametrize("engine", ENGINES)
def test_filtering_node_types_links_through_what_was_removed(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = graph_of(REVIEW, engine, "Review", tmp_path, monkeypatch)
    steps_only = graph.filter_by_node_type("event", "external", "resource")
    assert [node.id for node in steps_only.nodes] == ["check", "decide", "draft", "archive"]
    assert {(edge.source, edge.target, edge.label) for edge in steps_only.edges} == {
        ("draft", "check", "Drafted"),
        ("archive", "check", "Drafted"),
        ("check", "check", "Revise"),
        ("check", "decide", "AskEditor"),
        ("check", "archive", "Revise"),
        ("decide", "check", "Revise"),
        ("decide", "archive", "Revise"),
    }
    assert (steps_only.name, steps_only.description) == (graph.name, graph.description)


def test_labels_are_cut_and_event_nodes_know_their_bases_as_in_the_reference() -> None:
    node = WorkflowEventNode(
        id="Ask", label="AskEditorNow", event_type="Ask", event_types=["Ask", "InputRequiredEvent"]
    )
    assert (node.truncated_label(20), node.truncated_label(4)) == ("AskEditorNow", "Ask*")
    assert node.is_subclass_of("Nope", "InputRequiredEvent")
    assert not node.is_subclass_of("StopEvent")
    generic = WorkflowGenericNode(id="a", label="agent", node_type="agent")
    assert not generic.is_subclass_of("agent")
    parsed = WorkflowGraph.model_validate(
        {
            "name": "Handmade",
            "nodes": [
                {"id": "s", "label": "s", "node_type": "step"},
                {"id": "c", "label": "c", "node_type": "resource_config", "config_file": "x"},
                {"id": "t", "label": "t", "node_type": "tool"},
            ],
            "edges": [{"source": "s", "target": "t"}],
        }
    )
    assert [type(node) for node in parsed.nodes] == [
        WorkflowStepNode,
        WorkflowResourceConfigNode,
        WorkflowGenericNode,
    ]
    assert parsed.edges == [WorkflowGraphEdge(source="s", target="t")]


class Twin(Event):
    pass


OtherTwin = type("Twin", (Event,), {"__module__": "elsewhere"})


class Twins(Workflow):
    @step
    async def first(self, ev: StartEvent) -> Twin:
        return Twin()

    @step
    async def second(self, ev: Twin) -> OtherTwin:  # type: ignore[valid-type]
        return OtherTwin()

    @step
    async def third(self, ev: OtherTwin) -> StopEvent:  # type: ignore[valid-type]
        return StopEvent()


def test_two_event_classes_sharing_a_name_stay_two_nodes() -> None:
    graph = get_workflow_representation(Twins())
    twins = [node for node in graph.nodes if isinstance(node, WorkflowEventNode)][1:3]
    assert [(node.id, node.event_type) for node in twins] == [
        (f"{__name__}.Twin", "Twin"),
        ("elsewhere.Twin", "Twin"),
    ]
    assert {(e.source, e.target) for e in graph.edges} >= {
        ("first", f"{__name__}.Twin"),
        (f"{__name__}.Twin", "second"),
        ("second", "elsewhere.Twin"),
        ("elsewhere.Twin", "third"),
    }


def test_an_undocumented_workflow_has_no_description() -> None:
    assert get_workflow_representation(Twins).description is None


@pytest.mark.parametrize("not_a_workflow", [42, Twin, Twins.first], ids=repr)
def test_something_else_than_a_workflow_is_named_in_the_error(not_a_workflow: object) -> None:
    with pytest.raises(TypeError, match=r"get_workflow_representation\(\) takes a Workflow"):
        get_workflow_representation(not_a_workflow)  # type: ignore[arg-type]
