"""Events sent into a run in memory from outside it, confirmed
(`handler.send_event_confirmed`), and the idempotency keys that make a retried send
harmless. Bound as `WorkflowRun`'s methods; a durable run (`agentflow.durable`) journals
the keys with the events instead, so that they survive the process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentflow.events import Event
    from agentflow.runtime.run import WorkflowRun


async def send_confirmed_in(
    run: WorkflowRun, event: Event, step: str | None, idempotency_key: str | None = None
) -> bool:
    """See `RunPort.send_confirmed`: in memory, the event is routed before this returns."""
    sent_keys = run.sent_keys
    if idempotency_key is not None and sent_keys is not None and idempotency_key in sent_keys:
        return True  # taken before, whether or not the run has ended since
    if run.outcome is not None:
        return False
    if step is None:
        run.dispatch(event)
    else:
        run.send_to_step(step, event)
    if idempotency_key is not None:  # once sent: a refused send did not happen
        if sent_keys is None:
            sent_keys = run.sent_keys = set()
        sent_keys.add(idempotency_key)
    return True


def idempotency_keys_of(run: WorkflowRun) -> frozenset[str]:
    """See `RunPort.idempotency_keys`."""
    return frozenset(run.sent_keys or ())
