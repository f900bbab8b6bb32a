-- bench/export.py peer: the same rows in verl's layout, built in SQL, for DuckDB's own Parquet writer.
SELECT
    t.dataset AS data_source,
    [{'role': 'user', 'content': t.problem}] AS prompt,
    coalesce(t.domain, 'math') AS ability,
    {'style': CASE WHEN coalesce(trim(t.gold_answer) <> '', false) THEN 'rule' ELSE 'model' END, 'ground_truth': t.gold_answer} AS reward_model,
    {'trace_id': r.trace_id, 'problem_id': t.problem_id, 'split': t.split, 'problem': t.problem, 'response': t.response,
     'reward': r.reward, 'reward_source': r.source, 'reward_status': r.status, 'reward_reason': r.reason,
     'rubric_version': r.rubric_version, 'judge_id': r.judge_id, 'reward_config_hash': r.config_hash} AS extra_info
FROM rewards r
JOIN traces t USING (trace_id)
WHERE r.reward_set_id = $reward_set_id AND r.status <> 'dropped'
ORDER BY t.dataset, t.source_path, t.source_line, r.trace_id
