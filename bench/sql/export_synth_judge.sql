-- bench/export.py: judge verdicts for the traces without a gold answer.
INSERT INTO judge_verdicts BY NAME
SELECT
    md5('trace-' || i) AS trace_id,
    'judge-bench' AS judge_id,
    'rubric' AS judge_kind,
    'rubric-bench' AS rubric_version,
    'bench-model' AS model,
    'prompt-bench' AS prompt_id,
    CASE i % 7 WHEN 0 THEN 'error' WHEN 1 THEN 'incorrect' WHEN 2 THEN 'incorrect' ELSE 'correct' END AS verdict,
    NULL AS first_error_step,
    NULL AS items,
    NULL AS error,
    1 AS attempts,
    TIMESTAMP '2026-01-01 00:00:00' AS created_at
FROM range($n) r(i)
WHERE i % 10 = 9
