-- Rule-verifier verdicts; a verdict already stored for (trace, verifier) is kept (re-runs add nothing).
MERGE INTO answer_verdicts
USING (SELECT * FROM incoming QUALIFY row_number() OVER (PARTITION BY trace_id, verifier_id) = 1) AS new
ON answer_verdicts.trace_id = new.trace_id AND answer_verdicts.verifier_id = new.verifier_id
WHEN NOT MATCHED THEN INSERT BY NAME
