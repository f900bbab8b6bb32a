-- Descriptions in scope by status (ok, error, skipped) for the given describer.
SELECT d.status, count(*)::BIGINT AS n
FROM error_descriptions d
JOIN traces t ON t.trace_id = d.trace_id
WHERE d.describer_id = $describer_id
  AND ($domain IS NULL OR t.domain = $domain)
  AND ($datasets IS NULL OR list_contains($datasets, t.dataset))
  AND ($trace_ids IS NULL OR list_contains($trace_ids, t.trace_id))
GROUP BY d.status
ORDER BY d.status
