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
"""

from __future__ import annotations

from typing import Any, ClassVar

from agentflow import Workflow
from agentflow.handler import ResultT, WorkflowHandler
from agents.kit.run_arguments import name_positional_arguments


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
        return super().run(ctx, start_event, **self.start_fields(kwargs))

    def start_fields(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The start event's fields (and `Workflow.run`'s own options, passed on as they
        are) from `run()`'s keyword arguments, `ctx` and `start_event` taken out: check and
        convert the workflow's inputs here, leaving out those not given, so that a run
        given none resumes. As given by default."""
        return arguments
