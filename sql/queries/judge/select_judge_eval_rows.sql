-- Gold labels next to one judge's verdicts, for the traces in `incoming` (column trace_id).
-- A trace with no verdict from this judge comes back with verdict NULL.
SELECT t.trace_id, t.dataset, t.label_correct, t.label_first_error_step,
       v.verdict, v.first_error_step, v.items, v.error, v.error_stage, v.attempts,
       coalesce(v.prompt_tokens, 0) AS prompt_tokens, coalesce(v.completion_tokens, 0) AS completion_tokens,
       coalesce(v.cost_usd, 0) AS cost_usd
FROM traces AS t
JOIN incoming AS i ON i.trace_id = t.trace_id
LEFT JOIN judge_verdicts AS v ON v.trace_id = t.trace_id AND v.judge_id = $judge_id
ORDER BY t.trace_id
