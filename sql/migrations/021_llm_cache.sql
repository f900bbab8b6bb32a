-- The LLM response cache: one row per (backend, model, prompt, sampling parameters, sample index).
-- Every LLM call goes through it, so a rerun makes no repeated calls and a killed run resumes where it
-- stopped. Only successful responses are stored: an error is asked again on the next run.
CREATE TABLE IF NOT EXISTS llm_cache (
    cache_key         VARCHAR PRIMARY KEY,   -- hash of (backend, model, messages, response schema, sampling, sample index)
    backend           VARCHAR NOT NULL,      -- litellm | vllm_batch
    model             VARCHAR NOT NULL,
    prompt_id         VARCHAR,               -- hash of the prompt template file(s)
    sampling          JSON NOT NULL,         -- temperature, max_tokens, seed, sample_index
    text              VARCHAR,               -- the answer, thinking removed
    reasoning         VARCHAR,               -- thinking, kept but never parsed as a verdict
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_usd          DOUBLE NOT NULL,
    raw               JSON,                  -- finish reason and other small response metadata
    created_at        TIMESTAMP NOT NULL
);
