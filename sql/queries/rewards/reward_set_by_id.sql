-- One reward set's description.
SELECT reward_set_id, rule, config_hash, judge_id, rubric_version, judge_kind, datasets,
       n_traces, n_scored, n_unscorable, n_dropped
FROM reward_sets
WHERE reward_set_id = $reward_set_id
