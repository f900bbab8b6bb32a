-- One row per trace of a dataset that the describer described (status ok): its gold error class and the
-- rubric item the given version put it in (NULL = uncategorised).
SELECT t.trace_id, t.label_error_type, m.item_id
FROM traces t
JOIN error_descriptions d ON d.trace_id = t.trace_id AND d.describer_id = $describer_id AND d.status = 'ok'
LEFT JOIN rubric_members m ON m.trace_id = t.trace_id AND m.version_id = $version_id
WHERE t.dataset = $dataset
ORDER BY t.trace_id
