-- Store verdicts (the view `incoming`); a verdict of the same judge for the same trace is replaced.
MERGE INTO judge_verdicts
USING (
    SELECT trace_id, judge_id, judge_kind, rubric_version, model, prompt_id, verdict, first_error_step,
           CAST(items AS JSON) AS items, CAST(selected AS JSON) AS selected, explanation, score, error, error_stage,
           attempts, prompt_tokens, completion_tokens, cost_usd, $created_at AS created_at
    FROM incoming
    QUALIFY row_number() OVER (PARTITION BY trace_id, judge_id) = 1
) AS new
ON judge_verdicts.trace_id = new.trace_id AND judge_verdicts.judge_id = new.judge_id
WHEN MATCHED THEN UPDATE BY NAME
WHEN NOT MATCHED THEN INSERT BY NAME
