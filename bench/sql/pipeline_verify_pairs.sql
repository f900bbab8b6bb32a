-- bench/pipeline_1m.py: the first gold/response pairs of the store, for plain math-verify's rate.
SELECT gold_answer, response
FROM traces
WHERE gold_answer IS NOT NULL
ORDER BY trace_id
LIMIT $n
