-- Verdicts of one verifier with their trace's problem and gold answer (for reports and inspection).
SELECT v.trace_id, t.dataset, t.problem, t.gold_answer, v.extracted_answer, v.verdict, v.reason, v.decided_by, v.elapsed_ms
FROM answer_verdicts v
JOIN traces t USING (trace_id)
WHERE v.verifier_id = $verifier_id
ORDER BY t.dataset, t.problem, v.trace_id
