-- Members of a version with the text they were clustered on.
SELECT m.*, d.description
FROM rubric_members m
JOIN rubric_versions v ON v.version_id = m.version_id
LEFT JOIN error_descriptions d ON d.trace_id = m.trace_id AND d.describer_id = v.describer_id
WHERE m.version_id = $version_id
ORDER BY m.trace_id
