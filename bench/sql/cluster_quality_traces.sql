-- One row per bench trace of a dataset: its gold class, the description rubricate clustered (with its
-- embedding) and where the given rubric version put it (item, category; NULL = uncategorised).
SELECT t.trace_id, t.source_id, t.label_error_type AS label, d.description, e.embedding, m.item_id, i.category
FROM traces t
JOIN error_descriptions d ON d.trace_id = t.trace_id AND d.describer_id = $describer_id
LEFT JOIN text_embeddings e ON e.text_hash = d.text_hash AND e.model_id = $model_id
LEFT JOIN rubric_members m ON m.trace_id = t.trace_id AND m.version_id = $version_id
LEFT JOIN rubric_items i ON i.item_id = m.item_id AND i.version_id = $version_id
WHERE t.dataset = $dataset
ORDER BY t.trace_id
