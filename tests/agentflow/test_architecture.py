"""The seams of the engine, checked on its source: the runtime imports no public face at
run time, no module reaches into another's underscore names, and no module is too long."""

from __future__ import annotations

import ast
import threading
from pathlib import Path
from typing import Any

import agentflow
from agentflow import Context, Workflow, step
from agentflow.context import ContextPhase
from agentflow.context.context import start_run
from agentflow.events import Event, StartEvent, StopEvent

PACKAGE = Path(agentflow.__file__).parent
FACES = ("agentflow.context", "agentflow.handler", "agentflow.workflow")
"""The public faces; everything else in `agentflow/runtime/` sees them only as types. The
package itself (`from agentflow import Context`) counts as a face too."""


def modules(under: Path = PACKAGE) -> list[Path]:
    return sorted(under.rglob("*.py"))


def run_time_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of every import not under `if TYPE_CHECKING:`."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.append((node.lineno, node.module))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_the_runtime_imports_no_public_face_at_run_time() -> None:
    offending = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in modules(PACKAGE / "runtime")
        for line, module in run_time_imports(ast.parse(path.read_text()))
        if module == "agentflow" or module.startswith(FACES)
    ]
    assert offending == []


def underscore_names_defined(tree: ast.Module) -> set[str]:
    """Underscore names a module defines: functions, classes, attributes it assigns and
    slots it declares."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)  # __slots__ entries
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def foreign_underscore_uses(tree: ast.Module) -> list[tuple[int, str]]:
    """`something._name` where `something` is not self or cls and the module does not
    define `_name` itself."""
    own = underscore_names_defined(tree)
    return [
        (node.lineno, ast.unparse(node))
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and node.attr not in own
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]


def test_no_module_uses_another_modules_underscore_names() -> None:
    offending = [
        f"{path.relative_to(PACKAGE.parent)}:{line} uses {expression}"
        for path in modules()
        for line, expression in foreign_underscore_uses(ast.parse(path.read_text()))
    ]
    assert offending == []


def test_the_check_sees_a_foreign_underscore_use() -> None:
    """The check above would catch what issue 14 removed (`ctx._attach(run)`)."""
    tree = ast.parse("def start(ctx, run):\n    ctx._attach(run)\n")
    assert foreign_underscore_uses(tree) == [(2, "ctx._attach")]
    assert run_time_imports(ast.parse("from agentflow.context import Context")) == [
        (1, "agentflow.context")
    ]
    guarded = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import agentflow.handler\n"
    assert run_time_imports(ast.parse(guarded)) == [(1, "typing")]


def test_no_engine_module_is_longer_than_500_lines() -> None:
    lengths = {
        str(path.relative_to(PACKAGE.parent)): len(path.read_text().splitlines())
        for path in modules()
    }
    assert {path: n for path, n in lengths.items() if n > 500} == {}


class Ping(Event):
    pass


class Anything(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent()


class RecordingRun:
    """A `RunPort` that is not a `WorkflowRun`: it records what the faces ask of it."""

    run_id = "recorded"
    workflow_name = "Recording"

    def __init__(self) -> None:
        self.thread_id = threading.get_ident()
        self.is_running = True
        self.asked: list[tuple[str, object]] = []
        self.owner: Any = None

    def start(self, handler: Any, owner: Any) -> None:
        self.owner = owner
        self.asked.append(("start", handler))

    def dispatch(self, event: Any) -> None:
        self.asked.append(("dispatch", event))

    def write_to_stream(self, event: Any) -> None:
        self.asked.append(("write_to_stream", event))

    def cancel(self, cancel_message: Any = None, cancel_handler: bool = False) -> None:
        self.asked.append(("cancel", cancel_handler))

    def active_steps(self) -> list[str]:
        return ["somewhere"]


async def test_the_faces_reach_a_run_only_through_the_port() -> None:
    """Context and WorkflowHandler work over any object with the port's operations: the
    seam a store, a server or a remote runner plugs into."""
    ctx = Context(Anything())
    run = RecordingRun()
    handler = start_run(ctx, False, lambda resume: run)
    assert ctx.phase is ContextPhase.CALLER
    assert handler.run_id == "recorded"
    assert handler.ctx is ctx
    assert handler.active_steps == ["somewhere"]
    ping = Ping()
    handler.send_event(ping)
    ctx.write_event_to_stream(ping)
    handler.cancel()
    assert run.asked == [
        ("start", handler),
        ("dispatch", ping),
        ("write_to_stream", ping),
        ("cancel", True),
    ]
    run.owner.release(ctx, run)
    assert ctx.phase is ContextPhase.NO_RUN
