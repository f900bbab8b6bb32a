-- The reward set's description (rule, judge, scope, counts); replaced when the set is recomputed.
MERGE INTO reward_sets
USING (
    SELECT $reward_set_id AS reward_set_id, $rule AS rule, $config_hash AS config_hash, $judge_id AS judge_id,
           $rubric_version AS rubric_version, $judge_kind AS judge_kind, $datasets::VARCHAR[] AS datasets,
           $n_traces AS n_traces, $n_scored AS n_scored, $n_unscorable AS n_unscorable, $n_dropped AS n_dropped,
           $computed_at AS computed_at
) AS new
ON reward_sets.reward_set_id = new.reward_set_id
WHEN MATCHED THEN UPDATE BY NAME
WHEN NOT MATCHED THEN INSERT BY NAME
