-- Rewards: one row per (reward set, trace). A reward set is one (reward rule, judge, verifier choice,
-- dataset filter); its id hashes them, so changing the rule writes a new set and recomputing the same
-- set replaces its rows. Rows are computed from answer_verdicts and judge_verdicts only: no model calls.
CREATE TABLE IF NOT EXISTS reward_sets (
    reward_set_id     VARCHAR PRIMARY KEY,
    rule              JSON NOT NULL,      -- the RewardRule as configured
    config_hash       VARCHAR NOT NULL,   -- hash of the rule (also on every reward row)
    judge_id          VARCHAR,            -- NULL: no judge verdicts were used
    rubric_version    VARCHAR,
    judge_kind        VARCHAR,
    datasets          VARCHAR[],          -- NULL: all datasets
    n_traces          BIGINT NOT NULL,
    n_scored          BIGINT NOT NULL,
    n_unscorable      BIGINT NOT NULL,    -- given the rule's unscorable_value
    n_dropped         BIGINT NOT NULL,
    computed_at       TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS rewards (
    reward_set_id     VARCHAR NOT NULL,
    trace_id          VARCHAR NOT NULL,
    reward            DOUBLE,             -- NULL only when status = 'dropped'
    base_reward       DOUBLE,             -- before the penalty; NULL when unscorable
    penalty           DOUBLE NOT NULL,
    status            VARCHAR NOT NULL,   -- scored | unscorable | dropped
    source            VARCHAR NOT NULL,   -- which stage decided: rules | llm_verifier | judge | none
    reason            VARCHAR NOT NULL,   -- rule step: rules_correct, llm_verifier_incorrect, process_error, no_answer, ...
    rule_verdict      VARCHAR NOT NULL,   -- the inputs the rule saw (normalised; 'missing' = no verdict)
    llm_verdict       VARCHAR NOT NULL,
    judge_verdict     VARCHAR NOT NULL,
    rule_verifier_id  VARCHAR,
    llm_verifier_id   VARCHAR,
    judge_id          VARCHAR,
    judge_kind        VARCHAR,
    rubric_version    VARCHAR,
    judge_model       VARCHAR,
    judge_prompt_id   VARCHAR,
    judge_first_error_step INTEGER,
    config_hash       VARCHAR NOT NULL,
    computed_at       TIMESTAMP NOT NULL
);

