-- Traces among `incoming` (column trace_id) that have no usable verdict from this judge yet
-- (none at all, or an error row: those are judged again).
SELECT t.trace_id, t.problem, t.steps, t.label_correct, t.label_first_error_step
FROM traces AS t
JOIN incoming AS i ON i.trace_id = t.trace_id
WHERE NOT EXISTS (
    SELECT 1 FROM judge_verdicts AS v
    WHERE v.trace_id = t.trace_id AND v.judge_id = $judge_id AND v.verdict <> 'error'
)
ORDER BY t.trace_id
