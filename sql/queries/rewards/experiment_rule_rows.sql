-- Hidden gold labels next to each trace's latest rule-verifier verdict, for the traces in `incoming` (trace_id).
WITH rule_v AS (
    SELECT trace_id, verdict
    FROM answer_verdicts
    WHERE decided_by = 'rules' AND ($verifier_id::VARCHAR IS NULL OR verifier_id = $verifier_id)
    QUALIFY row_number() OVER (PARTITION BY trace_id ORDER BY created_at DESC, verifier_id DESC) = 1
)
SELECT t.trace_id, t.dataset, t.label_correct, t.label_first_error_step,
       coalesce(trim(t.gold_answer) <> '', false) AS has_gold, r.verdict
FROM traces t
JOIN incoming i ON i.trace_id = t.trace_id
LEFT JOIN rule_v r ON r.trace_id = t.trace_id
ORDER BY t.trace_id
