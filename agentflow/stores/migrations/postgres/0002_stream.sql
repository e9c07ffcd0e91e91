-- Each run's stream: the events it streamed, numbered from 0. `key` is the lineage of
-- the step execution that wrote the event (NULL for the run's own terminal event). A
-- checkpoint does not drop these rows: they go with their run.

CREATE TABLE agentflow_stream (
    run_id text NOT NULL REFERENCES agentflow_runs (run_id) ON DELETE CASCADE,
    seq    bigint NOT NULL,
    key    text,
    data   text NOT NULL,
    PRIMARY KEY (run_id, seq)
);
