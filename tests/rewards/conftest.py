"""Fixtures of the rewards tests (real DuckDB in tmp_path)."""

from __future__ import annotations

import pytest

from rubricate.store import Store
from tests.rewards.reward_rows import add_answer_verdict, add_judge_verdict, add_traces


@pytest.fixture
def reward_store(store: Store) -> Store:
    """Six traces covering the rule's main paths, with rule, LLM and judge verdicts."""
    add_traces(
        store,
        [
            {"trace_id": "t1", "gold_answer": "2", "dataset": "ds-a"},  # rules correct
            {"trace_id": "t2", "gold_answer": "4", "dataset": "ds-a"},  # rules incorrect, llm correct (false negative)
            {"trace_id": "t3", "gold_answer": "6", "dataset": "ds-a"},  # rules incorrect, no llm
            {"trace_id": "t4", "gold_answer": None, "dataset": "ds-b"},  # no gold, judge incorrect
            {"trace_id": "t5", "gold_answer": None, "dataset": "ds-b"},  # no gold, judge error
            {"trace_id": "t6", "gold_answer": "8", "dataset": "ds-b", "response": "hmm"},  # no answer
        ],
    )
    add_answer_verdict(store, "t1", "correct")
    add_answer_verdict(store, "t2", "incorrect")
    add_answer_verdict(store, "t2", "correct", by="llm")
    add_answer_verdict(store, "t3", "incorrect")
    add_answer_verdict(store, "t6", "no_answer")
    add_judge_verdict(store, "t1", "incorrect", first_error_step=1)
    add_judge_verdict(store, "t4", "incorrect", first_error_step=0)
    add_judge_verdict(store, "t5", "error")
    return store
