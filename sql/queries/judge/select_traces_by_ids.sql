-- The judge's view of the traces in `incoming` (column trace_id), with their gold labels.
SELECT t.trace_id, t.problem, t.steps, t.label_correct, t.label_first_error_step
FROM traces AS t
JOIN incoming AS i ON i.trace_id = t.trace_id
ORDER BY t.trace_id
