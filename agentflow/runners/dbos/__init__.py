"""Runs distributed over worker processes by DBOS, on the PostgreSQL store's database.

DBOS queues whole runs and recovers the ones a dead worker held; inside each, agentflow's
engine runs the steps and journals them, so a run recovered on another worker re-runs only
the steps in flight (`docs/several-machines.md` tells the whole picture):

- `DBOSWorker` (`agentflow worker myapp:server --dsn ...`) executes runs from the queue;
- `DBOSRunner` (`agentflow serve myapp:server --dsn ... --runner dbos`) is the runner of a
  server replica: it enqueues runs, posts events and cancels, and follows runs in the store.
"""

from agentflow.runners.dbos.runner import DBOSRunner
from agentflow.runners.dbos.worker import DBOSWorker

__all__ = ["DBOSRunner", "DBOSWorker"]
