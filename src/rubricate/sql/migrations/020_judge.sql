-- Judge verdicts: one row per (trace, judge). judge_id hashes (judge kind, model, prompt id, rubric version),
-- so a new prompt, model or rubric version judges again and an unchanged one never does.
-- A verdict that did not parse is a row with verdict = 'error' and the reason in `error`: never a score.
CREATE TABLE IF NOT EXISTS judge_verdicts (
    trace_id         VARCHAR NOT NULL,
    judge_id         VARCHAR NOT NULL,
    judge_kind       VARCHAR NOT NULL,   -- rubric | plain | offline
    rubric_version   VARCHAR,            -- NULL for the plain judge
    model            VARCHAR,            -- NULL for the offline judge
    prompt_id        VARCHAR,            -- hash of the prompt template(s)
    verdict          VARCHAR NOT NULL,   -- correct | incorrect | error
    first_error_step INTEGER,            -- 0-based, NULL when none found
    items            JSON,               -- [{item_id, present, step, evidence}] for the rubric judge
    error            VARCHAR,            -- why the verdict is an error row
    attempts         INTEGER NOT NULL DEFAULT 1,
    created_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (trace_id, judge_id)
);
