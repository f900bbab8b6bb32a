-- Store successful responses; a key already present keeps its first answer.
MERGE INTO llm_cache
USING (
    SELECT cache_key, backend, model, prompt_id, CAST(sampling AS JSON) AS sampling, text, reasoning,
           prompt_tokens, completion_tokens, cost_usd, CAST(raw AS JSON) AS raw, $created_at AS created_at
    FROM incoming
    QUALIFY row_number() OVER (PARTITION BY cache_key) = 1
) AS new
ON llm_cache.cache_key = new.cache_key
WHEN NOT MATCHED THEN INSERT BY NAME
