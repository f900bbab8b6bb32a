"""bench/judge_quality.py's own arithmetic: the seeded balanced samples, the prompt-cache effect read from
llama.cpp's counters, and the final table (the figures in README come from these)."""

from __future__ import annotations

import random

import pytest

from bench.judge_quality import JudgeRow, JudgeSetResult, balanced, cache_effect, judges_table, summary_line


def rows(n_wrong: int, n_right: int) -> list[dict]:
    return [{"trace_id": f"w{i}", "label_correct": False} for i in range(n_wrong)] + [
        {"trace_id": f"r{i}", "label_correct": True} for i in range(n_right)
    ]


def test_balanced_sample_is_half_wrong_and_seeded():
    a = balanced(rows(50, 50), 10, random.Random(0))
    b = balanced(rows(50, 50), 10, random.Random(0))
    assert [r["trace_id"] for r in a] == [r["trace_id"] for r in b]
    assert sum(not r["label_correct"] for r in a) == 5 and len(a) == 10
    assert len(balanced(rows(2, 50), 10, random.Random(0))) == 7  # a side that runs out gives fewer, never a repeat


def test_cache_effect_from_llamacpp_counters():
    before = {"prompt_tokens_total": 100.0, "prompt_tokens_cached_total": 0.0, "prompt_seconds_total": 10.0}
    after = {"prompt_tokens_total": 400.0, "prompt_tokens_cached_total": 600.0, "prompt_seconds_total": 40.0}
    effect = cache_effect(before, after)
    assert effect["cached_share"] == pytest.approx(600 / 900)  # 300 computed + 600 from the cache
    assert effect["saved_s"] == pytest.approx(60.0)  # 600 tokens at the run's own 10 tokens/s
    assert cache_effect(None, after) == {"cached_share": None, "saved_s": None}  # a server without /metrics


def test_table_and_summary_name_each_judge():
    def row(judge: str, tp: int, tn: int) -> JudgeRow:
        m = {"tp": tp, "fn": 4 - tp, "tn": tn, "fp": 4 - tn, "sensitivity": tp / 4, "balanced_accuracy": (tp / 4 + tn / 4) / 2,
             "pb_f1": None, "n_judge_errors": 1}
        return JudgeRow("processbench", judge, 8, m, 80.0, 1234, {"cached_share": 0.5, "saved_s": 12.0})

    res = JudgeSetResult("processbench", n_gold=20, n_described=8, rows=[row("rubric", 3, 2), row("plain", 1, 4)])
    table = judges_table([res])
    assert "| processbench | rubric | 8 | 3/4 | 2/4 | 0.625 | n/a | 1 | 1234 | 10.0 | 50% | 12 |" in table
    assert "| processbench | plain | 8 | 1/4 | 4/4 | 0.625 |" in table
    assert summary_line([res]) == ("SUMMARY: processbench: rubric caught 75% of wrong traces vs plain 25%, "
                                   "balanced accuracy 0.625 vs 0.625")


def test_the_class_table_sums_every_class():
    from bench.judge_quality import class_table

    table = class_table({"ratios": {"equivalent": 0, "recovered": 0, "near_misses": 4, "wrong_accepted": 1, "errors": 0},
                         "angles": {"equivalent": 1, "recovered": 1, "near_misses": 4, "wrong_accepted": 0, "errors": 1}})
    assert "| ratios | 0/0 | 1/4 | 0 |" in table and "| all | 1/1 | 1/8 | 1 |" in table
