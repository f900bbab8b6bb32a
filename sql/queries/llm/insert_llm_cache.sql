-- Store successful responses; a key already present keeps its first answer.
INSERT INTO llm_cache
SELECT cache_key, backend, model, prompt_id, CAST(sampling AS JSON), text, reasoning,
       prompt_tokens, completion_tokens, cost_usd, CAST(raw AS JSON), $created_at
FROM incoming
ON CONFLICT (cache_key) DO NOTHING
