"""Judging traces: the rubric judge (selection pass, then checking pass), the plain LLM judge baseline,
and the offline embedding judge; their verdicts are stored in `judge_verdicts` and scored against gold labels.

Entry points: `rubricate.judge.factory.make_judge`, `rubricate.judge.stage.judge_traces`,
`rubricate.judge.gold_eval` (`run_judge`, `score_judge`).
"""
