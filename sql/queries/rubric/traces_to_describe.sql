-- Wrong traces (gold labels say so, or, without labels, a verifier said 'incorrect') in the rubric's scope
-- (ids only; rows are fetched per chunk) that the given describer has not described yet, or whose description failed and may be tried again.
SELECT t.trace_id, coalesce(d.attempts, 0) AS attempts
FROM traces t
LEFT JOIN error_descriptions d ON d.trace_id = t.trace_id AND d.describer_id = $describer_id
WHERE (d.trace_id IS NULL OR (d.status = 'error' AND d.attempts < $max_attempts))
  AND ($domain IS NULL OR t.domain = $domain)
  AND ($datasets IS NULL OR list_contains($datasets, t.dataset))
  AND ($trace_ids IS NULL OR list_contains($trace_ids, t.trace_id))
  AND (
        t.label_correct = false
     OR t.label_final_answer_correct = false
     OR t.label_first_error_step IS NOT NULL
     OR (t.label_correct IS NULL AND t.label_final_answer_correct IS NULL
         AND EXISTS (SELECT 1 FROM answer_verdicts v WHERE v.trace_id = t.trace_id AND v.verdict = 'incorrect')
         AND NOT EXISTS (SELECT 1 FROM answer_verdicts v WHERE v.trace_id = t.trace_id AND v.verdict = 'correct'))
  )
ORDER BY t.trace_id
