-- LLM-verifier verdicts (the view `incoming`); an earlier row of the same verifier for the trace (an error) is replaced.
MERGE INTO answer_verdicts
USING (SELECT * FROM incoming QUALIFY row_number() OVER (PARTITION BY trace_id, verifier_id) = 1) AS new
ON answer_verdicts.trace_id = new.trace_id AND answer_verdicts.verifier_id = new.verifier_id
WHEN MATCHED THEN UPDATE BY NAME
WHEN NOT MATCHED THEN INSERT BY NAME
