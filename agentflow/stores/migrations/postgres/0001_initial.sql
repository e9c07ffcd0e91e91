-- Runs and their journal. Names carry an agentflow_ prefix: the store may share a
-- database (and its public schema) with the application's own tables.

CREATE TABLE agentflow_runs (
    run_id          text PRIMARY KEY,
    workflow        text NOT NULL,
    version         text,
    status          text NOT NULL
        CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'cancelled')),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    result          text,
    checkpoint_seq  bigint,
    checkpoint_data text
);

-- list_runs: the latest first, optionally of one status or one workflow.
CREATE INDEX agentflow_runs_by_update ON agentflow_runs (updated_at DESC);
CREATE INDEX agentflow_runs_by_status ON agentflow_runs (status, updated_at DESC);
CREATE INDEX agentflow_runs_by_workflow ON agentflow_runs (workflow, updated_at DESC);
-- prune and the TTL: terminal runs by age (status is in the index above, but this one
-- stays small as long as few runs have ended).
CREATE INDEX agentflow_runs_ended ON agentflow_runs (updated_at)
    WHERE status IN ('completed', 'failed', 'cancelled');

CREATE TABLE agentflow_journal (
    run_id text NOT NULL REFERENCES agentflow_runs (run_id) ON DELETE CASCADE,
    seq    bigint NOT NULL,
    kind   text NOT NULL,
    key    text,
    data   text NOT NULL,
    PRIMARY KEY (run_id, seq),
    -- A step execution's completion (kind + lineage key) is recorded once; records
    -- without a key (NULL) are not compared.
    CONSTRAINT agentflow_journal_kind_key UNIQUE (run_id, kind, key)
);
