"""Storing verdicts (idempotent, error rows, resume) and the offline embedding judge with the real MiniLM."""

from __future__ import annotations

import pytest

from rubricate.judge.config import JudgeConfig
from rubricate.judge.factory import make_judge
from rubricate.judge.llm_judges import PlainJudge
from rubricate.judge.offline import best_threshold
from rubricate.judge.stage import judge_traces, load_traces
from rubricate.llm.backends import NoneBackend, get_backend
from tests.helpers import sql_rows
from tests.judge.helpers import add_traces, arithmetic_traces, llm_cfg
from tests.judge.judge_sim import judge_answer
from tests.stub_server import Reply, user_text


def _rows(store):
    return sql_rows(store, "SELECT trace_id, verdict, first_error_step, error, attempts, judge_kind FROM judge_verdicts ORDER BY trace_id")


def test_judge_traces_stores_verdicts_and_a_rerun_judges_nothing(sim_server, store):
    traces = arithmetic_traces(6)
    add_traces(store, traces)
    ids = [t.trace_id for t in traces]
    judge = PlainJudge(get_backend(llm_cfg(sim_server), store=store))
    report = judge_traces(store, judge, ids, batch_size=4)
    assert (report.n_judged, report.n_incorrect, report.n_correct, report.n_error) == (6, 3, 3, 0)
    rows = _rows(store)
    assert [(r[0], r[1], r[2]) for r in rows] == [(t.trace_id, "correct" if t.label_correct else "incorrect", t.label_first_error_step) for t in traces]
    sim_server.reset_counts()
    again = judge_traces(store, PlainJudge(get_backend(llm_cfg(sim_server), store=store)), ids)
    assert again.n_already_judged == 6 and again.n_judged == 0 and sim_server.n_requests == 0


def test_error_rows_are_stored_and_judged_again_next_run(sim_server, store):
    traces = arithmetic_traces(3)
    add_traces(store, traces)
    ids = [t.trace_id for t in traces]

    def script(body, n):
        if "Problem 1:" in user_text(body):
            return Reply(content="no idea")  # a malformed verdict: cached like any answer
        if "Problem 2:" in user_text(body):
            return Reply(status=500)  # a failed call: never cached
        return Reply(content=judge_answer(body))

    sim_server.script = script
    cfg = llm_cfg(sim_server, max_retries=0)
    judge_traces(store, PlainJudge(get_backend(cfg, store=store), max_parse_retries=1), ids)
    rows = _rows(store)
    assert rows[1][1] == "error" and "not JSON" in rows[1][3] and rows[1][4] == 2
    assert rows[2][1] == "error" and "500" in rows[2][3]
    sim_server.script = lambda body, n: Reply(content=judge_answer(body))
    sim_server.reset_counts()
    # Same judge again: the malformed answers replay from the cache (no calls, still an error row);
    # the failed calls are asked again and now succeed.
    report = judge_traces(store, PlainJudge(get_backend(cfg, store=store), max_parse_retries=1), ids)
    assert report.n_already_judged == 1 and report.n_judged == 2 and report.n_error == 1
    assert sim_server.n_requests == 1 and _rows(store)[2][1] == "correct"
    # One more re-ask allowed: one new sample for the malformed one, which now parses.
    sim_server.reset_counts()
    report = judge_traces(store, PlainJudge(get_backend(cfg, store=store), max_parse_retries=2), ids)
    assert report.n_judged == 1 and report.n_error == 0 and sim_server.n_requests == 1
    assert _rows(store)[1][1] == "incorrect" and _rows(store)[1][4] == 3


def test_load_traces_round_trips_labels(store):
    traces = arithmetic_traces(4)
    add_traces(store, traces)
    assert load_traces(store, [t.trace_id for t in traces]) == traces


def test_best_threshold_separates_scores():
    import numpy as np

    t, bacc = best_threshold(np.array([0.1, 0.2, 0.8, 0.9]), np.array([False, False, True, True]))
    assert 0.2 < t <= 0.8 and bacc == 1.0


@pytest.mark.slow
def test_offline_judge_learns_from_the_labelled_part(rubric):
    traces = arithmetic_traces(24)
    labelled, unseen = traces[:12], traces[12:]
    judge = make_judge("offline", NoneBackend(), JudgeConfig(), rubric=rubric, labelled=labelled)
    assert judge.fit_report.n_traces == 12 and judge.fit_report.n_wrong == 6
    verdicts = judge.judge(unseen)
    assert len(verdicts) == 12 and all(v.verdict in ("correct", "incorrect") and v.score is not None for v in verdicts)
    flagged = [v for v in verdicts if v.verdict == "incorrect"]
    assert all(v.items and v.items[0]["item_id"] in {"arith", "cond"} for v in flagged)
    assert judge.judge_id and judge.model == "all-MiniLM-L6-v2"
    # a new labelled set is a new judge (its verdicts depend on what it learned from)
    other = make_judge("offline", NoneBackend(), JudgeConfig(), rubric=rubric, labelled=traces[6:18])
    assert other.judge_id != judge.judge_id


def test_llm_judges_refuse_backend_none(rubric):
    from rubricate.errors import ConfigError

    with pytest.raises(ConfigError, match="needs an LLM"):
        make_judge("rubric", NoneBackend(), JudgeConfig(), rubric=rubric)


@pytest.mark.slow
def test_offline_judge_with_a_store_embeds_each_step_once_and_judges_the_same(rubric, store, monkeypatch):
    from rubricate.rubric.embed import Embedder

    traces = arithmetic_traces(24)
    labelled, unseen = traces[:12], traces[12:]
    plain = make_judge("offline", NoneBackend(), JudgeConfig(), rubric=rubric, labelled=labelled)
    encoded: list[int] = []
    real_encode = Embedder.encode
    monkeypatch.setattr(Embedder, "encode", lambda self, texts: encoded.append(len(texts)) or real_encode(self, texts))
    cached = make_judge("offline", NoneBackend(), JudgeConfig(), rubric=rubric, labelled=labelled, store=store)
    first = cached.judge(unseen)
    n_texts = sum(encoded)
    assert n_texts > 0 and store.table_counts(["text_embeddings"])["text_embeddings"] > 0
    # the same verdicts as without the cache (the stored float32 vectors are the model's own)
    assert [(v.verdict, v.first_error_step, round(v.score, 5)) for v in first] == [
        (v.verdict, v.first_error_step, round(v.score, 5)) for v in plain.judge(unseen)
    ]
    encoded.clear()
    again = make_judge("offline", NoneBackend(), JudgeConfig(), rubric=rubric, labelled=labelled, store=store)
    again.judge(unseen)
    assert sum(encoded) == 0  # every step and rubric text came from the store
