-- Traces the rule verifier cannot check: no gold answer (they are left unverified, never dropped).
SELECT CAST(count(*) AS BIGINT) FROM traces WHERE gold_answer IS NULL OR trim(gold_answer) = ''
