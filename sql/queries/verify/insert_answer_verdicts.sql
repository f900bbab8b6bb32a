-- Rule-verifier verdicts; a verdict already stored for (trace, verifier) is kept (re-runs add nothing).
INSERT OR IGNORE INTO answer_verdicts BY NAME SELECT * FROM incoming
