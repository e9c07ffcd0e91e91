"""The kit every prebuilt workflow (`FunctionAgent`, `ReActAgent`, `AgentWorkflow`,
`ExtractionWorkflow`, `ResearchWorkflow`) is built from, one module per piece:

- `state`: `KitState`, the typed context state (`Context[...]`, edited in place with
  `ctx.store.edit_state()`): the run's own state under `run`, the usage ledger, and the
  run's usage read from it (`run_usage`).
- `reply_failures`: which LLM failures cost one piece of work (`is_piece_failure`) and
  which end the run.
- `run_limit`: `RunLimit`, one semaphore per run bounding work spread over several steps.
- `workflow`: `PrebuiltWorkflow`, the one `run(input, ...)`, input first
  (`run_arguments`: how its positional arguments are read).
"""

from __future__ import annotations

from agents.kit.errors import RunNotStartedError
from agents.kit.reply_failures import PIECE_FAILURES, is_piece_failure, noted
from agents.kit.run_limit import LimitsItsRuns, RunLimit
from agents.kit.state import KitState
from agents.kit.workflow import PrebuiltWorkflow

__all__ = [
    "PIECE_FAILURES",
    "KitState",
    "LimitsItsRuns",
    "PrebuiltWorkflow",
    "RunLimit",
    "RunNotStartedError",
    "is_piece_failure",
    "noted",
]
