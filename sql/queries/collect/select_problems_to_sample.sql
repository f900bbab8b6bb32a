-- Problems of one problem set (source path prefix) to sample responses for, in source order.
SELECT problem_key, problem_id, dataset, split, domain, source_path, source_line, source_id, problem, prompt, gold_answer
FROM problems
WHERE ($source_path::VARCHAR IS NULL OR starts_with(source_path, $source_path::VARCHAR))
ORDER BY source_path, source_line
LIMIT $limit
