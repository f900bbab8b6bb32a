SELECT * FROM rubric_changes WHERE version_id = $version_id ORDER BY change, item_id
