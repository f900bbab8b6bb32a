-- How many responses the cache holds for one backend and model.
SELECT count(*) FROM llm_cache WHERE backend = $backend AND model = $model
