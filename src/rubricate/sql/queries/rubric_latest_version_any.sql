-- The newest version with items across all rubric names (for callers that do not name a rubric).
SELECT * FROM rubric_versions
WHERE n_items > 0
ORDER BY created_at DESC, seq DESC
LIMIT 1
