"""Durable runs: a run journalled in a store (`agentflow.stores`), resumed after its
process died. `Workflow(store=...)` turns it on; nothing here loads otherwise.

    fold.py     the journal folded into what is left to do (resume, and checkpoints)
    journal.py  the live side: ids, ordered batched writes, completion records
    run.py      `DurableRun`, a `WorkflowRun` whose port entry points journal first
    start.py    a new durable run, or one resumed from the store
"""
