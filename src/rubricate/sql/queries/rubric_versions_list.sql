-- The history of a rubric, newest first.
SELECT version_id, seq, status, n_descriptions, n_new_traces, n_items, n_categories, n_uncategorised, message, created_at
FROM rubric_versions
WHERE rubric_name = $rubric_name
ORDER BY seq DESC
