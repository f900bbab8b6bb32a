-- Cached responses for the keys in `incoming` (one column: cache_key).
SELECT c.cache_key, c.text, c.reasoning, c.prompt_tokens, c.completion_tokens, c.cost_usd, c.raw
FROM llm_cache AS c
JOIN incoming AS i ON i.cache_key = c.cache_key
