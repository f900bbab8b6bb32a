-- Judge verdicts: one row per (trace, judge). judge_id hashes (judge kind, model, prompt id, rubric version),
-- so a new prompt, model or rubric version judges again and an unchanged one never does.
-- A verdict that did not parse, or named an item the rubric does not have, is a row with verdict = 'error'
-- and the reason in `error`: never a score. A rerun judges error rows again (their LLM answers come from the cache).
CREATE TABLE IF NOT EXISTS judge_verdicts (
    trace_id          VARCHAR NOT NULL,
    judge_id          VARCHAR NOT NULL,
    judge_kind        VARCHAR NOT NULL,   -- rubric | plain | offline
    rubric_version    VARCHAR,            -- NULL for the plain judge
    model             VARCHAR,            -- the LLM, or the embedding model of the offline judge
    prompt_id         VARCHAR,            -- hash of the prompt template(s)
    verdict           VARCHAR NOT NULL,   -- correct | incorrect | error
    first_error_step  INTEGER,            -- 0-based, NULL when none found
    items             JSON,               -- [{item_id, present, step, evidence, evidence_found}] (rubric judge; offline: nearest item)
    selected          JSON,               -- rubric judge: the item ids the selection pass picked
    explanation       VARCHAR,            -- plain judge's explanation; offline judge's score and threshold
    score             DOUBLE,             -- offline judge: how error-like the worst step is (higher = more likely wrong)
    error             VARCHAR,            -- why the verdict is an error row
    error_stage       VARCHAR,            -- select | check | judge: the pass that failed
    attempts          INTEGER NOT NULL DEFAULT 1,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd          DOUBLE NOT NULL DEFAULT 0,
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (trace_id, judge_id)
);
