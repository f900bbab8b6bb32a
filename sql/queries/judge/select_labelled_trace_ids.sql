-- Traces with a gold trace-level label, optionally of some datasets, in a stable order (by id, i.e. by hash).
SELECT trace_id, dataset, label_correct, label_first_error_step
FROM traces
WHERE label_correct IS NOT NULL
  AND ($datasets::VARCHAR[] IS NULL OR list_contains($datasets::VARCHAR[], dataset))
ORDER BY trace_id
LIMIT $limit
