"""`RunLimit`: one semaphore per run, shared by the steps whose work it bounds.

A step's `num_workers` bounds its own executions; work spread over several steps (files
read and chunks extracted, searches and reads) needs one bound per run instead, set by the
workflow (`per_run_limit`: `num_workers` for extraction, `max_parallel` for research). The
semaphore is a cached `Resource`, so every step of the run that asks for it gets the same
one:

```python
@step(num_workers=64)  # the real bound is the workflow's per_run_limit
async def extract(self, ctx: Context[...], ev: ChunkRequest, limit: RunLimit) -> ...:
    async with limit:
        ...
```
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Protocol, runtime_checkable

from agentflow import Context
from agentflow.resource import Resource


@runtime_checkable
class LimitsItsRuns(Protocol):
    """A workflow with a per-run bound on work done at once."""

    @property
    def per_run_limit(self) -> int:
        """How much of the bounded work one run may do at once."""
        ...


def _run_semaphore(ctx: Context[Any]) -> asyncio.Semaphore:
    workflow = ctx.workflow
    if not isinstance(workflow, LimitsItsRuns):
        raise TypeError(
            f"workflow {type(workflow).__name__} asks for a RunLimit but has no "
            "per_run_limit property saying how large it is"
        )
    return asyncio.Semaphore(workflow.per_run_limit)


RunLimit = Annotated[asyncio.Semaphore, Resource(_run_semaphore)]
"""A step parameter: the run's semaphore, sized by the workflow's `per_run_limit`."""
