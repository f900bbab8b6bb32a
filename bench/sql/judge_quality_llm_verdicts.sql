-- The LLM verifier's verdict on each trace of a dataset it was asked about, next to the trace's known truth.
SELECT t.trace_id, t.split, t.label_correct, v.verdict
FROM traces t
JOIN answer_verdicts v ON v.trace_id = t.trace_id AND v.verifier_id = $verifier_id
WHERE t.dataset = $dataset
ORDER BY t.trace_id
