-- Core tables: traces, what ingest rejected, ingest runs, rule-verifier verdicts.
-- Idempotent: every statement can run again on an existing database.

CREATE TABLE IF NOT EXISTS traces (
    trace_id                  VARCHAR PRIMARY KEY,   -- content hash of (dataset, split, source id, problem, response)
    problem_id                VARCHAR NOT NULL,      -- content hash of the problem text
    dataset                   VARCHAR NOT NULL,      -- the reader's dataset (processbench, prmbench, ...), or the source's name for jsonl, parquet and sql sources
    split                     VARCHAR,               -- subset inside the dataset: gsm8k, math, chemistry, ...
    domain                    VARCHAR,               -- math, physics, chemistry, biology, medicine, code, logic, ...
    source_path               VARCHAR NOT NULL,
    source_line               INTEGER NOT NULL,      -- 1-based line (JSONL) or record index + 1 (JSON array, Parquet)
    source_id                 VARCHAR,               -- the id the source gave this row, if any
    problem                   VARCHAR NOT NULL,
    response                  VARCHAR NOT NULL,      -- the full response; steps joined with blank lines when only steps were given
    steps                     VARCHAR[] NOT NULL,    -- the response split into steps (0-based positions)
    gold_answer               VARCHAR,
    model                     VARCHAR,
    label_correct             BOOLEAN,               -- gold: the whole trace is free of errors (NULL = unknown)
    label_final_answer_correct BOOLEAN,              -- gold: the final answer is right (NULL = unknown)
    label_first_error_step    INTEGER,               -- gold: 0-based index into steps of the first error (NULL = none or unknown)
    label_error_type          VARCHAR,               -- gold: error class given by the source
    label_error_description   VARCHAR,               -- gold: free-text description of the error given by the source
    extra                     JSON,                  -- everything else the source carried
    ingest_run_id             VARCHAR NOT NULL,
    ingested_at               TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS rejected_rows (
    source_path   VARCHAR NOT NULL,
    source_line   INTEGER NOT NULL,
    reason        VARCHAR NOT NULL,   -- short code: malformed_json, missing_field, not_utf8, empty_response, too_large, duplicate, bad_value
    detail        VARCHAR,            -- human-readable explanation
    raw_excerpt   VARCHAR,            -- first 500 characters of the raw row
    ingest_run_id VARCHAR NOT NULL,
    rejected_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (source_path, source_line, reason)
);

CREATE TABLE IF NOT EXISTS ingest_runs (
    ingest_run_id VARCHAR PRIMARY KEY,
    source_name   VARCHAR NOT NULL,
    reader        VARCHAR NOT NULL,
    source_path   VARCHAR NOT NULL,
    n_in          INTEGER NOT NULL,
    n_accepted    INTEGER NOT NULL,
    n_rejected    INTEGER NOT NULL,
    n_duplicates  INTEGER NOT NULL,
    config_hash   VARCHAR NOT NULL,
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS answer_verdicts (
    trace_id         VARCHAR NOT NULL,
    verifier_id      VARCHAR NOT NULL,   -- e.g. rules-v1; a new verifier version re-verifies everything
    extracted_answer VARCHAR,
    verdict          VARCHAR NOT NULL,   -- correct | incorrect | no_answer | error
    reason           VARCHAR NOT NULL,   -- why: which comparison matched or failed, or the error
    decided_by       VARCHAR NOT NULL,   -- rules | llm
    elapsed_ms       DOUBLE,
    created_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (trace_id, verifier_id)
);
