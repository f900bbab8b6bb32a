-- How a reward set was decided: rows and mean reward per (status, source, reason).
SELECT status, source, reason, count(*)::BIGINT AS n, avg(reward)::DOUBLE AS mean_reward
FROM rewards
WHERE reward_set_id = $reward_set_id
GROUP BY ALL
ORDER BY status, source, reason
