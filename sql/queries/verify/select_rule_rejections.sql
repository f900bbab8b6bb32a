-- Traces the rule verifier $rules_verifier_id did not accept (incorrect, error) although it extracted a final answer,
-- and that have no usable verdict yet from the LLM verifier $llm_verifier_id: TinyV's "addon" mode asks the LLM only
-- about these. With no extracted answer there is nothing to compare (a response that never commits to an answer is
-- not made right by a model reading its tail): no_answer stands.
SELECT t.trace_id, t.problem, t.gold_answer, t.response, r.extracted_answer, r.verdict AS rule_verdict, r.reason AS rule_reason
FROM answer_verdicts AS r
JOIN traces AS t ON t.trace_id = r.trace_id
WHERE r.verifier_id = $rules_verifier_id
  AND r.verdict IN ('incorrect', 'error')
  AND r.extracted_answer IS NOT NULL AND trim(r.extracted_answer) <> ''
  AND t.gold_answer IS NOT NULL AND trim(t.gold_answer) <> ''
  AND NOT EXISTS (
      SELECT 1 FROM answer_verdicts AS l
      WHERE l.trace_id = t.trace_id AND l.verifier_id = $llm_verifier_id AND l.verdict <> 'error'
  )
ORDER BY t.trace_id
