-- Each run's stream: the events it streamed, numbered from 0. `key` is the lineage of
-- the step execution that wrote the event (NULL for the run's own terminal event). A
-- checkpoint does not drop these rows: they go with their run.

CREATE TABLE stream (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    key TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
