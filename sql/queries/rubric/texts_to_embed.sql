-- Distinct description texts in the rubric's scope with no embedding from the given model yet.
SELECT d.text_hash, any_value(d.description) AS text
FROM error_descriptions d
JOIN traces t ON t.trace_id = d.trace_id
WHERE d.describer_id = $describer_id AND d.status = 'ok'
  AND ($domain IS NULL OR t.domain = $domain)
  AND ($datasets IS NULL OR list_contains($datasets, t.dataset))
  AND ($trace_ids IS NULL OR list_contains($trace_ids, t.trace_id))
  AND NOT EXISTS (SELECT 1 FROM text_embeddings e WHERE e.text_hash = d.text_hash AND e.model_id = $model_id)
GROUP BY d.text_hash
ORDER BY d.text_hash
