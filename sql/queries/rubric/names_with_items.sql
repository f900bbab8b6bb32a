-- The rubrics (lineages) that have a version with items; builds made for an evaluation subset
-- (`<name>-subset-<hash>`) are not rubrics a user asks for by "latest".
SELECT DISTINCT rubric_name FROM rubric_versions
WHERE n_items > 0 AND rubric_name NOT LIKE '%-subset-%'
ORDER BY rubric_name
