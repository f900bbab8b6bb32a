-- Per dataset/split: traces, gold error labels, and what the rule verifier decided (for the given verifier id).
SELECT
    t.dataset,
    coalesce(t.split, '') AS split,
    count(*)::BIGINT AS traces,
    count(*) FILTER (WHERE t.label_correct = false)::BIGINT AS gold_wrong,
    count(*) FILTER (WHERE t.gold_answer IS NOT NULL)::BIGINT AS with_gold_answer,
    count(v.trace_id)::BIGINT AS verified,
    count(*) FILTER (WHERE v.verdict = 'correct')::BIGINT AS correct,
    count(*) FILTER (WHERE v.verdict = 'incorrect')::BIGINT AS incorrect,
    count(*) FILTER (WHERE v.verdict = 'no_answer')::BIGINT AS no_answer,
    count(*) FILTER (WHERE v.verdict = 'error')::BIGINT AS error,
    round(count(*) FILTER (WHERE v.verdict = 'correct') / nullif(count(v.trace_id), 0), 3)::DOUBLE AS pass_rate,
    -- Where the source says whether the final answer is right: how often the rule verdict agrees.
    round(
        count(*) FILTER (WHERE t.label_final_answer_correct IS NOT NULL AND v.verdict IS NOT NULL
                         AND (v.verdict = 'correct') = t.label_final_answer_correct)
        / nullif(count(*) FILTER (WHERE t.label_final_answer_correct IS NOT NULL AND v.verdict IS NOT NULL), 0), 3
    )::DOUBLE AS agrees_with_gold
FROM traces t
LEFT JOIN answer_verdicts v ON v.trace_id = t.trace_id AND v.verifier_id = $verifier_id
GROUP BY ALL
ORDER BY t.dataset, split
