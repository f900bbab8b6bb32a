-- The newest version of a rubric (any status); $with_items = true: the newest one that has items.
SELECT * FROM rubric_versions
WHERE rubric_name = $rubric_name AND (NOT $with_items OR n_items > 0)
ORDER BY seq DESC
LIMIT 1
