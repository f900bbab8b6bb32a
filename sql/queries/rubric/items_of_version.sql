SELECT * FROM rubric_items WHERE version_id = $version_id ORDER BY position
