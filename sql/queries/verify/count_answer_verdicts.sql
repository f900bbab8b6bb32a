-- Stored verdicts of one verifier, per verdict.
SELECT verdict, CAST(count(*) AS BIGINT) AS n
FROM answer_verdicts
WHERE verifier_id = $verifier_id
GROUP BY verdict
ORDER BY verdict
