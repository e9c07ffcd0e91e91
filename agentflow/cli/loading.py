"""Finding the workflow a `module:Class` target names, with errors that say what is wrong."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from agentflow.cli.errors import EXIT_WORKFLOW_FAILED, CommandLineError, one_line
from agentflow.errors import WorkflowValidationError

if TYPE_CHECKING:
    from agentflow.workflow import Workflow


def load_workflow(target: str) -> Workflow | type[Workflow]:
    """The Workflow subclass (or instance) that `target` names: `package.module:Name`,
    `path/to/file.py:Name`, or a dotted attribute path after the colon (`mod:Outer.Flow`).
    The current directory is put on `sys.path` first, so local modules import. Raises
    `CommandLineError` naming what was wrong."""
    from agentflow.workflow import Workflow

    found = load_attribute(target, "module:WorkflowClass (e.g. myapp.flows:ResearchFlow)")
    if isinstance(found, Workflow) or (isinstance(found, type) and issubclass(found, Workflow)):
        return found
    raise CommandLineError(f"{target!r} is {describe(found)}, not a Workflow subclass or instance")


def load_attribute(target: str, expected: str) -> object:
    """The object `module:attribute.path` names (a module, or a `.py` file, then the
    attributes after the colon); `expected` says what `target` should look like, for the
    error when it has no colon. Raises `CommandLineError` naming what was wrong."""
    module_name, colon, attribute_path = target.rpartition(":")
    if not colon or not module_name or not attribute_path:
        raise CommandLineError(f"expected {expected}, got {target!r}")
    module = _import_module(module_name)
    found: object = module
    for depth, attribute in enumerate(attribute_path.split(".")):
        if not hasattr(found, attribute):
            owner = module_name if depth == 0 else attribute_path.rsplit(".", 1)[0]
            workflows = _workflows_defined_in(module)
            listing = (
                f"workflows it defines: {', '.join(workflows)}"
                if workflows
                else "it defines no Workflow subclass"
            )
            raise CommandLineError(f"{owner!r} has no attribute {attribute!r} ({listing})")
        found = getattr(found, attribute)
    return found


def instantiate(target: Workflow | type[Workflow]) -> Workflow:
    """`target` itself when it is an instance, else the class made with no arguments."""
    if not isinstance(target, type):
        return target
    try:
        return target()
    except WorkflowValidationError as error:  # its graph has no entry or exit
        raise CommandLineError(
            f"cannot start {target.__name__}: {one_line(error)}", EXIT_WORKFLOW_FAILED
        ) from None
    except Exception as error:
        raise CommandLineError(
            f"cannot create {target.__name__}() with no arguments: {one_line(error)}; "
            "point at a module-level instance instead (module:my_workflow)"
        ) from error


def _import_module(module_name: str) -> ModuleType:
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    if module_name.endswith(".py") or "/" in module_name or os.sep in module_name:
        return _import_file(Path(module_name))
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise CommandLineError(
                f"no module named {missing!r} (looked in the current directory and sys.path)"
            ) from error
        raise CommandLineError(f"importing {module_name!r} failed: {one_line(error)}") from error
    except Exception as error:
        raise CommandLineError(f"importing {module_name!r} failed: {one_line(error)}") from error


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise CommandLineError(f"no such file: {str(path)!r}")
    name = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CommandLineError(f"cannot import {str(path)!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, so annotations in it resolve (get_type_hints looks the
    # module up in sys.modules) and its own imports of itself find it.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise CommandLineError(f"importing {str(path)!r} failed: {one_line(error)}") from error
    return module


def _workflows_defined_in(module: ModuleType) -> list[str]:
    from agentflow.workflow import Workflow

    return sorted(
        name
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, Workflow)
        and value is not Workflow
        and value.__module__ == module.__name__
    )


def describe(value: object) -> str:
    """What `value` is, for an error that says a target named the wrong thing."""
    if isinstance(value, type):
        return f"the class {value.__qualname__}"
    if isinstance(value, ModuleType):
        return f"the module {value.__name__}"
    if callable(value):
        return f"a {type(value).__name__} ({getattr(value, '__qualname__', value)!r})"
    return f"a {type(value).__name__}"
