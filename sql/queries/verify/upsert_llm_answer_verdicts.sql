-- LLM-verifier verdicts (the view `incoming`); an earlier row of the same verifier for the trace (an error) is replaced.
INSERT OR REPLACE INTO answer_verdicts BY NAME SELECT * FROM incoming
