-- The reward set's description (rule, judge, scope, counts); replaced when the set is recomputed.
INSERT OR REPLACE INTO reward_sets
    (reward_set_id, rule, config_hash, judge_id, rubric_version, judge_kind, datasets,
     n_traces, n_scored, n_unscorable, n_dropped, computed_at)
VALUES ($reward_set_id, $rule, $config_hash, $judge_id, $rubric_version, $judge_kind, $datasets::VARCHAR[],
        $n_traces, $n_scored, $n_unscorable, $n_dropped, $computed_at)
