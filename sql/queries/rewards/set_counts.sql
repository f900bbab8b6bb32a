-- Counts of one reward set by status, for its reward_sets row and the run report.
SELECT
    count(*)::BIGINT AS n_traces,
    count(*) FILTER (WHERE status = 'scored')::BIGINT AS n_scored,
    count(*) FILTER (WHERE status = 'unscorable')::BIGINT AS n_unscorable,
    count(*) FILTER (WHERE status = 'dropped')::BIGINT AS n_dropped
FROM rewards
WHERE reward_set_id = $reward_set_id
