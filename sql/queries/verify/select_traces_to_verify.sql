-- Traces that have a gold answer and no verdict yet from rule verifier $verifier_id (a new verifier
-- version re-verifies everything). Ordered so that a long run streams in a stable order.
SELECT t.trace_id, t.gold_answer, t.response
FROM traces t
WHERE t.gold_answer IS NOT NULL
  AND trim(t.gold_answer) <> ''
  AND NOT EXISTS (
      SELECT 1 FROM answer_verdicts v
      WHERE v.trace_id = t.trace_id AND v.verifier_id = $verifier_id
  )
ORDER BY t.trace_id
