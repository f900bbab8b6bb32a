-- The rows of a reward export, in a fixed order (so that re-exporting gives byte-identical files).
-- Dropped rows are never exported; unscorable rows (given the rule's stated value) only when asked.
SELECT
    r.trace_id, t.problem_id, t.dataset, t.split, t.domain, t.problem, t.response, t.gold_answer,
    r.reward, r.status, r.source, r.reason, r.rubric_version, r.judge_id, r.judge_kind, r.judge_model,
    r.judge_prompt_id, r.rule_verifier_id, r.llm_verifier_id, r.config_hash
FROM rewards r
JOIN traces t USING (trace_id)
WHERE r.reward_set_id = $reward_set_id
  AND r.status <> 'dropped'
  AND ($include_unscorable OR r.status = 'scored')
  AND ($datasets::VARCHAR[] IS NULL OR list_contains($datasets::VARCHAR[], t.dataset))
ORDER BY t.dataset, t.source_path, t.source_line, r.trace_id
