-- bench/export.py: $n synthetic traces (10% without a gold answer), text that does not compress away.
INSERT INTO traces BY NAME
SELECT
    md5('trace-' || i) AS trace_id,
    md5('problem-' || (i // 4)) AS problem_id,
    'bench-' || (i % 3) AS dataset,
    NULL AS split,
    'math' AS domain,
    'bench-' || (i % 3) || '.jsonl' AS source_path,
    (i // 3 + 1)::INTEGER AS source_line,
    NULL AS source_id,
    'Problem ' || (i // 4) || ': a train leaves at ' || (i % 13) || ' km/h and another at ' || (i % 17)
        || ' km/h; when do they meet? Reference ' || md5('q' || (i // 4)) AS problem,
    'Step 1: write down what is known, ' || md5('a' || i) || '.\n\nStep 2: relate the speeds, ' || md5('b' || i)
        || '.\n\nStep 3: solve the equation, ' || md5('c' || i) || ' and ' || md5('d' || i)
        || '.\n\nStep 4: check the result against the question, ' || md5('e' || i)
        || '.\n\nThe answer is \boxed{' || (i % 97) || '}.' AS response,
    ['Step 1', 'Step 2', 'Step 3', 'Step 4'] AS steps,
    CASE WHEN i % 10 = 9 THEN NULL ELSE ((i * 7) % 97)::VARCHAR END AS gold_answer,
    NULL AS model,
    NULL AS label_correct, NULL AS label_final_answer_correct, NULL AS label_first_error_step,
    NULL AS label_error_type, NULL AS label_error_description, NULL AS extra,
    'bench' AS ingest_run_id,
    TIMESTAMP '2026-01-01 00:00:00' AS ingested_at
FROM range($n) r(i)
