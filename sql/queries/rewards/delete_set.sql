-- Remove a reward set's rows before recomputing it (same transaction as the insert).
DELETE FROM rewards WHERE reward_set_id = $reward_set_id
