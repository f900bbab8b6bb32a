-- Store verdicts (the view `incoming`); a verdict of the same judge for the same trace is replaced.
INSERT OR REPLACE INTO judge_verdicts BY NAME
SELECT trace_id, judge_id, judge_kind, rubric_version, model, prompt_id, verdict, first_error_step,
       CAST(items AS JSON) AS items, CAST(selected AS JSON) AS selected, explanation, score, error, error_stage,
       attempts, prompt_tokens, completion_tokens, cost_usd, $created_at AS created_at
FROM incoming
