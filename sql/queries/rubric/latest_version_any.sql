-- The newest version with items across rubric names (for callers that do not name a rubric); builds made
-- for an evaluation subset (`<name>-subset-<hash>`) are never "the latest rubric".
SELECT * FROM rubric_versions
WHERE n_items > 0 AND rubric_name NOT LIKE '%-subset-%'
ORDER BY created_at DESC, seq DESC
LIMIT 1
