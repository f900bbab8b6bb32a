-- The verdict that stands per trace: the LLM verifier's where it was asked and answered, else the rules'.
-- `decided_by` says which stage decided.
SELECT r.trace_id,
       CASE WHEN l.verdict IS NOT NULL AND l.verdict <> 'error' THEN l.verdict ELSE r.verdict END AS verdict,
       CASE WHEN l.verdict IS NOT NULL AND l.verdict <> 'error' THEN 'llm' ELSE 'rules' END AS decided_by,
       r.verdict AS rule_verdict, l.verdict AS llm_verdict,
       CASE WHEN l.verdict IS NOT NULL AND l.verdict <> 'error' THEN l.reason ELSE r.reason END AS reason
FROM answer_verdicts AS r
LEFT JOIN answer_verdicts AS l ON l.trace_id = r.trace_id AND l.verifier_id = $llm_verifier_id
WHERE r.verifier_id = $rules_verifier_id
ORDER BY r.trace_id
