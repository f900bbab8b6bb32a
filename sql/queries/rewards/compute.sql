-- Reward rows for one reward set: every trace in scope, its verdicts normalised to the rule's inputs,
-- joined with the rule's decision table (the view `incoming`, built by rubricate.rewards.rule.decision_table).
-- Verifier verdicts: the configured verifier id, else each trace's most recent verdict of that kind.
INSERT INTO rewards BY NAME
WITH rule_v AS (
    SELECT trace_id, verdict, verifier_id
    FROM answer_verdicts
    WHERE decided_by = 'rules' AND ($rule_verifier_id::VARCHAR IS NULL OR verifier_id = $rule_verifier_id)
    QUALIFY row_number() OVER (PARTITION BY trace_id ORDER BY created_at DESC, verifier_id DESC) = 1
), llm_v AS (
    SELECT trace_id, verdict, verifier_id
    FROM answer_verdicts
    WHERE decided_by = 'llm' AND ($llm_verifier_id::VARCHAR IS NULL OR verifier_id = $llm_verifier_id)
    QUALIFY row_number() OVER (PARTITION BY trace_id ORDER BY created_at DESC, verifier_id DESC) = 1
), judge_v AS (
    SELECT * FROM judge_verdicts WHERE judge_id = $judge_id
), inputs AS (
    SELECT
        t.trace_id,
        coalesce(trim(t.gold_answer) <> '', false) AS has_gold,
        CASE WHEN r.verdict IS NULL THEN 'missing'
             WHEN r.verdict IN ('correct', 'incorrect', 'no_answer', 'error') THEN r.verdict ELSE 'error' END AS rule_verdict,
        CASE WHEN l.verdict IS NULL THEN 'missing'
             WHEN l.verdict IN ('correct', 'incorrect', 'no_answer', 'error') THEN l.verdict ELSE 'error' END AS llm_verdict,
        CASE WHEN j.verdict IS NULL THEN 'missing'
             WHEN j.verdict IN ('correct', 'incorrect', 'error') THEN j.verdict ELSE 'error' END AS judge_verdict,
        coalesce($min_chars::INTEGER IS NOT NULL AND length(t.response) < $min_chars::INTEGER, false) AS short,
        coalesce(json_extract_string(t.extra, '$.finish_reason') IN ('length', 'max_tokens')
                 OR json_extract_string(t.extra, '$.truncated') = 'true', false) AS truncated,
        r.verifier_id AS rule_verifier_id,
        l.verifier_id AS llm_verifier_id,
        j.judge_id, j.judge_kind, j.rubric_version, j.model AS judge_model, j.prompt_id AS judge_prompt_id,
        j.first_error_step AS judge_first_error_step
    FROM traces t
    LEFT JOIN rule_v r ON r.trace_id = t.trace_id
    LEFT JOIN llm_v l ON l.trace_id = t.trace_id
    LEFT JOIN judge_v j ON j.trace_id = t.trace_id
    WHERE $datasets::VARCHAR[] IS NULL OR list_contains($datasets::VARCHAR[], t.dataset)
)
SELECT
    $reward_set_id AS reward_set_id,
    i.trace_id,
    d.reward, d.base_reward, d.penalty, d.status, d.source, d.reason,
    i.rule_verdict, i.llm_verdict, i.judge_verdict,
    i.rule_verifier_id, i.llm_verifier_id,
    coalesce(i.judge_id, $judge_id) AS judge_id, i.judge_kind, i.rubric_version, i.judge_model, i.judge_prompt_id,
    i.judge_first_error_step,
    $config_hash AS config_hash,
    $computed_at AS computed_at
FROM inputs i
JOIN incoming d USING (has_gold, rule_verdict, llm_verdict, judge_verdict, short, truncated)
