SELECT * FROM rubric_versions WHERE version_id = $version_id
