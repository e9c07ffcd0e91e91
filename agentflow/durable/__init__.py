"""Durable runs: a run journalled in a store (`agentflow.stores`), resumed after its
process died. `Workflow(store=...)` turns it on; only the `Durability` modes below load
otherwise.

    fold.py     the journal folded into what is left to do (resume, and checkpoints)
    journal.py  the live side: event ids, completion records, the run's end
    writer.py   the records' seqs and their ordered, batched writes, per durability mode
    run.py      `DurableRun`, a `WorkflowRun` whose port entry points journal first
    start.py    a new durable run, or one resumed from the store
    status.py   the run's status in the store: `waiting` or `running`
"""

from typing import Literal, get_args

Durability = Literal["sync", "async", "exit"]
"""When a durable run's records are written (`Workflow(durability=...)`):

- `"sync"`: a step's outputs are routed once its completion record is committed (the
  record of the step that returned the StopEvent is committed with the run's end, in one
  write); after a crash only the executions in flight run again.
- `"async"`: records are written behind the run, in order, while its outputs are routed at
  once; after a crash the executions whose records had not reached the store run again.
- `"exit"`: only the run's start, a checkpoint whenever it waits for an event from outside,
  and its end with a final checkpoint; after a crash the run goes on from the last of those
  (the start, or its last wait), running its steps again.
"""

DURABILITY_MODES: tuple[Durability, ...] = get_args(Durability)

__all__ = ["DURABILITY_MODES", "Durability"]
