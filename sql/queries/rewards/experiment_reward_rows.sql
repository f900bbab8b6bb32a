-- Hidden gold labels next to one reward set's rows, for the traces in `incoming` (trace_id).
SELECT t.trace_id, t.dataset, t.label_correct, t.label_first_error_step,
       r.reward, r.status, r.source, r.reason, r.judge_first_error_step
FROM traces t
JOIN incoming i ON i.trace_id = t.trace_id
LEFT JOIN rewards r ON r.trace_id = t.trace_id AND r.reward_set_id = $reward_set_id
ORDER BY t.trace_id
