-- bench/export.py: rule verdicts for traces with gold (mixed outcomes), LLM verdicts for some rejections.
INSERT INTO answer_verdicts BY NAME
SELECT
    md5('trace-' || i) AS trace_id,
    'rules-bench' AS verifier_id,
    NULL AS extracted_answer,
    CASE i % 5 WHEN 0 THEN 'incorrect' WHEN 1 THEN 'no_answer' ELSE 'correct' END AS verdict,
    'bench' AS reason,
    'rules' AS decided_by,
    0.1 AS elapsed_ms,
    TIMESTAMP '2026-01-01 00:00:00' AS created_at
FROM range($n) r(i)
WHERE i % 10 <> 9
UNION ALL
SELECT
    md5('trace-' || i), 'llm-bench', NULL, CASE WHEN i % 3 = 0 THEN 'correct' ELSE 'incorrect' END, 'bench', 'llm', 50.0,
    TIMESTAMP '2026-01-01 00:00:00'
FROM range($n) r(i)
WHERE i % 10 <> 9 AND i % 5 = 0
