"""`PrebuiltWorkflow`: the one `run()` of the prebuilt workflows, their input first.

```python
await agent.run("What is 17.5% of 2340?")              # FunctionAgent, ReActAgent, AgentWorkflow
await extraction.run(["invoice.pdf"])                  # ExtractionWorkflow: the files
await research.run("How should batteries be charged?") # ResearchWorkflow: the question
handler = workflow.run(ctx)                            # as every Workflow takes it
```

A first argument that is a `Context` is the context, and the second the start event, so
code written for any `Workflow` runs these unchanged; anything else first is the workflow's
input, then the names in `run_inputs`, in order (`agents.kit.run_arguments`). Each
workflow says what its inputs are (`run_inputs`) and how they become the start event's
fields (`start_fields`); it declares `run()`'s typed overloads for type checkers only.

An agent's run (`agent_identity`) is traced as an `invoke_agent` span around the run's
own (`agents.kit.agent_spans`).

Each run holds the sessions of the workflow's tools (`run_tools`; an MCP server's, say) from
its start to its end, whatever the outcome (`tools.sessions`, through the engine's
`Workflow.hold_for_run`): the calls of all its turns share one, and the run's end closes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ClassVar

from agentflow import Workflow
from agentflow.handler import ResultT, WorkflowHandler
from agents.kit.agent_spans import AgentIdentity, run_as_agent
from agents.kit.run_arguments import name_positional_arguments
from tools import FunctionTool
from tools.sessions import hold_sessions


class PrebuiltWorkflow(Workflow[ResultT]):
    """A workflow whose `run()` takes its input first, as the user thinks of it."""

    run_inputs: ClassVar[tuple[str, ...]] = ()
    """The names `run()` takes positionally after a first argument that is not a
    `Context`, in order."""

    def run(self, *args: Any, **kwargs: Any) -> WorkflowHandler[ResultT]:
        """Run on the inputs given (positionally in `run_inputs` order, or by name); with
        none, a `ctx` holding an unfinished run resumes it, as for any workflow."""
        name_positional_arguments(f"{type(self).__name__}.run", args, kwargs, self.run_inputs)
        ctx, start_event = kwargs.pop("ctx", None), kwargs.pop("start_event", None)
        fields = self.start_fields(kwargs)
        return run_as_agent(
            self.agent_identity,
            lambda: super(PrebuiltWorkflow, self).run(ctx, start_event, **fields),
        )

    def agent_identity(self) -> AgentIdentity | None:
        """The agent a run of this workflow is, for its `invoke_agent` span when tracing is
        on (`agents.kit.agent_spans`); None (the default): the workflow is no agent."""
        return None

    def start_fields(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The start event's fields (and `Workflow.run`'s own options, passed on as they
        are) from `run()`'s keyword arguments, `ctx` and `start_event` taken out: check and
        convert the workflow's inputs here, leaving out those not given, so that a run
        given none resumes. As given by default."""
        return arguments

    def run_tools(self) -> Iterable[FunctionTool]:
        """The tools this workflow's runs may call, whose sessions each run holds: none by
        default."""
        return ()

    def hold_for_run(self) -> Callable[[], Awaitable[None]] | None:
        """Hold the sessions of `run_tools()` for the run (see the module docstring)."""
        return hold_sessions(self.run_tools())
