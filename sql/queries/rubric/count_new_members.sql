-- How many of the incoming trace ids were not members of the given version.
SELECT count(*)::BIGINT AS n FROM incoming i
WHERE NOT EXISTS (SELECT 1 FROM rubric_members m WHERE m.version_id = $version_id AND m.trace_id = i.trace_id)
