-- The runs and their journal (agentflow.stores.base describes what each column holds).
-- Times are UTC, ISO 8601 text with microseconds, so that they sort as they compare.

CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    version TEXT,
    status TEXT NOT NULL
        CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'cancelled')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    result TEXT,
    checkpoint_seq INTEGER,
    checkpoint_data TEXT
) WITHOUT ROWID;

-- list_runs (latest first, maybe by status) and prune (terminal runs written before a time).
CREATE INDEX runs_by_status_and_time ON runs (status, updated_at);
CREATE INDEX runs_by_time ON runs (updated_at);

CREATE TABLE journal (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    key TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq),
    -- A step execution's completion is recorded once; records without a key are not keyed.
    UNIQUE (run_id, kind, key)
) WITHOUT ROWID;
