-- The fields a describer reads, for the incoming trace ids (with their previous attempts).
SELECT t.trace_id, t.dataset, t.domain, t.problem, t.steps, t.gold_answer,
       t.label_first_error_step, t.label_error_type, t.label_error_description, i.attempts
FROM incoming i
JOIN traces t ON t.trace_id = i.trace_id
ORDER BY t.trace_id
