SELECT coalesce(max(seq), 0) + 1 AS seq FROM rubric_versions WHERE rubric_name = $rubric_name
