-- How many traces in a reward set's scope have no gold answer (the rule lets the judge decide those).
SELECT count(*)::BIGINT
FROM traces t
WHERE coalesce(trim(t.gold_answer) = '', true)
  AND ($datasets::VARCHAR[] IS NULL OR list_contains($datasets::VARCHAR[], t.dataset))
