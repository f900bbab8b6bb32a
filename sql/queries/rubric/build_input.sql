-- Everything a build clusters: the ok descriptions in scope with their embeddings (NULL = not embedded yet).
SELECT d.trace_id, d.description, d.raw_text, d.keyword, d.how_to_check, d.text_hash, t.dataset, t.label_error_type, e.embedding
FROM error_descriptions d
JOIN traces t ON t.trace_id = d.trace_id
LEFT JOIN text_embeddings e ON e.text_hash = d.text_hash AND e.model_id = $model_id
WHERE d.describer_id = $describer_id AND d.status = 'ok'
  AND ($domain IS NULL OR t.domain = $domain)
  AND ($datasets IS NULL OR list_contains($datasets, t.dataset))
  AND ($trace_ids IS NULL OR list_contains($trace_ids, t.trace_id))
ORDER BY d.trace_id
