"""The positional arguments of a prebuilt workflow's `run()`.

LlamaIndex's agents take the user message first (`agent.run("question")`), while
`Workflow.run` takes `ctx` and `start_event` first, and code written for any workflow
(runners, tests, nesting) passes them that way. So a prebuilt workflow's `run(*args)` reads a
first argument that is a `Context` as `Workflow.run` does, and anything else as its own
input (the user message, the question, the files).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentflow import Context

_WORKFLOW_POSITIONALS = ("ctx", "start_event")


def name_positional_arguments(
    caller: str, args: Sequence[Any], kwargs: dict[str, Any], names: Sequence[str]
) -> None:
    """Put `args` into `kwargs` under their names: `ctx` and `start_event` when the first
    is a `Context`, else `names` in order. Raises TypeError, naming `caller` (e.g.
    "FunctionAgent.run"), for too many arguments or one also given by name."""
    positionals = _WORKFLOW_POSITIONALS if args and isinstance(args[0], Context) else names
    if len(args) > len(positionals):
        raise TypeError(
            f"{caller}() takes at most {len(positionals)} positional arguments "
            f"({', '.join(positionals)}), got {len(args)}"
        )
    for name, value in zip(positionals, args, strict=False):
        if name in kwargs:
            raise TypeError(f"{caller}() got {name} twice: positionally and as {name}=...")
        kwargs[name] = value
