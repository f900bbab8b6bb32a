-- The judges with stored verdicts (optionally of one rubric version), to pick the judge of a reward set.
SELECT judge_id, any_value(judge_kind) AS judge_kind, any_value(rubric_version) AS rubric_version,
       any_value(model) AS model, count(*)::BIGINT AS n_verdicts
FROM judge_verdicts
WHERE $rubric_version::VARCHAR IS NULL OR rubric_version = $rubric_version
GROUP BY judge_id
ORDER BY judge_id
