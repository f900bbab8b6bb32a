-- Which of the incoming problem keys are already stored.
SELECT p.problem_key FROM problems p JOIN incoming i USING (problem_key)
