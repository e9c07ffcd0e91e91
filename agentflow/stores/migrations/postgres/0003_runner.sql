-- The DBOS runner's bookkeeping (agentflow/runners/dbos): which worker drives each run,
-- under a lease, and the events and cancels any server replica sends to runs. A store
-- used without that runner leaves these tables empty.

CREATE TABLE agentflow_runner_runs (
    run_id      text PRIMARY KEY,
    served_name text NOT NULL,
    -- The start event as the serializer wrote it: the worker that first drives the run
    -- creates it in agentflow_runs with it.
    start_event text NOT NULL,
    state       text NOT NULL CHECK (state IN ('queued', 'running', 'parked', 'ended')),
    -- How many DBOS workflows were enqueued for the run: each is named run_id#activation,
    -- and only the latest may drive it.
    activation  integer NOT NULL,
    owner       text,
    lease_until timestamptz,
    -- A parked run waiting with a timeout is woken then, for the wait to time out.
    wake_at     timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- The reaper's scans: running runs whose lease ran out, queued runs nobody took.
CREATE INDEX agentflow_runner_runs_by_state ON agentflow_runner_runs (state, lease_until);
CREATE INDEX agentflow_runner_runs_wakes ON agentflow_runner_runs (wake_at)
    WHERE state = 'parked';

CREATE TABLE agentflow_runner_inbox (
    id        bigserial PRIMARY KEY,
    run_id    text NOT NULL REFERENCES agentflow_runner_runs (run_id) ON DELETE CASCADE,
    -- The client's idempotency key, or a random one: the worker sends the event with it,
    -- so that the run's journal takes it once, whatever crashes in between.
    key       text NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('event', 'cancel')),
    step      text,
    data      text,
    delivered boolean NOT NULL DEFAULT false,
    CONSTRAINT agentflow_runner_inbox_key UNIQUE (run_id, key)
);
CREATE INDEX agentflow_runner_inbox_waiting ON agentflow_runner_inbox (run_id, id)
    WHERE NOT delivered;

CREATE TABLE agentflow_runner_workers (
    executor_id text PRIMARY KEY,
    alive_until timestamptz NOT NULL
);
