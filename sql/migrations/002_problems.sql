-- Problem sets: prompts with gold answers and no responses yet (a verl RL training set, for instance).
-- collect_traces samples responses for them; the sampled traces share `problem_id` with these rows.
-- Idempotent: every statement can run again on an existing database.

CREATE TABLE IF NOT EXISTS problems (
    problem_key   VARCHAR PRIMARY KEY,   -- content hash of (dataset, split, source id, problem, gold answer)
    problem_id    VARCHAR NOT NULL,      -- text hash of the problem, the same as traces.problem_id
    dataset       VARCHAR NOT NULL,      -- reader name: verl, ...
    split         VARCHAR,               -- verl `data_source`
    domain        VARCHAR,               -- verl `ability`: math, code, ...
    source_path   VARCHAR NOT NULL,
    source_line   INTEGER NOT NULL,      -- Parquet row + 1
    source_id     VARCHAR,               -- the id the source gave this row (verl extra_info.index)
    problem       VARCHAR NOT NULL,      -- the user message: what a judge reads
    prompt        JSON,                  -- the chat messages exactly as given: what a sampler sends
    gold_answer   VARCHAR,
    extra         JSON,                  -- everything else the source carried
    ingest_run_id VARCHAR NOT NULL,
    ingested_at   TIMESTAMP NOT NULL
);
