-- Forget one judge's verdicts (to judge again; its LLM answers stay in the response cache).
DELETE FROM judge_verdicts WHERE judge_id = $judge_id
