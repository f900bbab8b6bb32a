"""Online reward hardening (issue 10, items 1-4): what trainers really pass, a hard time limit from any thread,
garbage never scored as right, and an outage (a real failing server on 127.0.0.1) never scored as wrong."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest
import torch

from rubricate.config import parse_config
from rubricate.rewards import online
from rubricate.rewards.online import OnlineReward, Sample, TRLReward, UnscorableShareError
from tests.stub_server import Reply, StubOpenAIServer

RIGHT = "We add 2 and 2.\n\nSo the answer is \\boxed{4}."
WRONG = "We add 2 and 3.\n\nSo the answer is \\boxed{5}."
HANG_GUARD_S = 120  # only a guard against a hang (the inputs never returned): no speed is asserted


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnlineReward]:
    """Rules only, a 2 s limit per sample; one instance (one pair of worker processes) for the module."""
    data = tmp_path_factory.mktemp("online") / "data"
    r = OnlineReward(parse_config({"data_dir": str(data), "rewards": {"online": {"timeout_s": 2}}}))
    yield r
    r.close()


@pytest.fixture
def reward(shared: OnlineReward) -> Iterator[OnlineReward]:
    online.set_default(shared)
    yield shared
    online.set_default(None)


def scores(results: list[Any]) -> list[float]:
    return [r["score"] for r in results]


# -- item 1: the containers trainers pass -----------------------------------------------------------------
def test_verl_batch_manager_numpy_object_arrays(reward: OnlineReward) -> None:
    """verl's BatchRewardManager: data_sources and extra_infos are numpy object arrays, ground_truths a list
    (or an object array) whose entries may be numpy arrays of several gold answers."""
    n = 4
    data_sources = np.array(["math"] * n, dtype=object)
    extra_infos = np.array([{"index": i, "rollout_reward_scores": {}} for i in range(n)], dtype=object)
    golds: list[Any] = ["4", "4", np.array(["7", "4"], dtype=object), 4]
    out = online.compute_score_batch(data_sources=data_sources, solution_strs=[RIGHT, WRONG, RIGHT, RIGHT],
                                     ground_truths=golds, extra_infos=extra_infos)
    assert scores(out) == [1.0, 0.0, 1.0, 1.0]
    assert [o["rubricate_unscorable"] for o in out] == [0.0] * n
    as_array = np.empty(n, dtype=object)
    for i, g in enumerate(golds):
        as_array[i] = g
    strs = np.array([RIGHT, WRONG, RIGHT, RIGHT], dtype=object)
    assert scores(online.compute_score_batch(data_sources, strs, as_array, extra_infos)) == [1.0, 0.0, 1.0, 1.0]


def test_numpy_and_torch_scalars_as_gold(reward: OnlineReward) -> None:
    for gold in (np.str_("4"), np.int64(4), np.float64(4.0), torch.tensor(4), np.array("4"), np.array(["7", "4"])):
        assert online.compute_score("math", RIGHT, gold)["score"] == 1.0, gold


def test_trl_columns_as_lists_arrays_and_tensors(reward: OnlineReward) -> None:
    prompts = [[{"role": "user", "content": "What is 2+2?"}]] * 3
    completions = [[{"role": "assistant", "content": c}] for c in (RIGHT, WRONG, RIGHT)]
    for column in ([4, 4, 5], np.array(["4", "4", "5"]), torch.tensor([4, 4, 5]), ("4", "4", "5")):
        assert online.trl_reward(prompts=prompts, completions=completions, ground_truth=column) == [1.0, 0.0, 0.0]
    # completions as a numpy array of strings (standard format)
    assert online.trl_reward(prompts=["p", "p"], completions=np.array([RIGHT, WRONG]), answer=np.array([4, 4])) == [1.0, 0.0]


def test_openrlhf_labels_as_lists_and_tensors(reward: OnlineReward) -> None:
    queries = [f"<user>What?</user>{RIGHT}", f"<user>What?</user>{WRONG}"]
    for labels in (["4", "4"], np.array(["4", "4"]), torch.tensor([4, 4])):
        out = online.reward_func(queries, ["<user>What?</user>"] * 2, labels)
        assert out["rewards"].tolist() == [1.0, 0.0], labels
    out = online.reward_func(np.array(queries, dtype=object), np.array(["<user>What?</user>"] * 2), np.array([4, 4]))
    assert out["rewards"].tolist() == [1.0, 0.0]


def test_a_string_where_a_batch_belongs_is_a_clear_error(reward: OnlineReward) -> None:
    with pytest.raises(TypeError, match="solution_strs must be a sequence"):
        online.compute_score_batch(["math"], RIGHT, ["4"], [None])


def test_a_misaligned_batch_is_unscorable_not_paired_by_guess(reward: OnlineReward) -> None:
    out = online.compute_score_batch(["m", "m"], [RIGHT, RIGHT], ["4"], [None, None])
    assert [o["rubricate_unscorable"] for o in out] == [1.0, 1.0]
    assert online.compute_score_batch(["m"], [RIGHT], ["4", "5"], None)[0]["rubricate_reason"] == "invalid_input"
    assert online.trl_reward(prompts=["p", "p"], completions=[RIGHT, RIGHT], ground_truth=["4"]) == [None, None]


# -- item 3: garbage is unscorable, never correct --------------------------------------------------------
NOT_TEXT: list[tuple[Any, Any]] = [
    (float("nan"), float("nan")),
    (object(), object()),
    (None, "4"),
    (b"\\boxed{4}", "4"),
    (RIGHT, float("nan")),
    (RIGHT, np.float64("nan")),
    (RIGHT, float("inf")),
    (RIGHT, True),
    (RIGHT, object()),
    (RIGHT, {"unexpected": "4"}),
    (RIGHT, ["4", None]),
    ({"content": 4}, "4"),
]


@pytest.mark.parametrize(("response", "gold"), NOT_TEXT, ids=[f"{type(r).__name__}-{type(g).__name__}" for r, g in NOT_TEXT])
def test_values_that_are_not_text_are_unscorable(reward: OnlineReward, response: Any, gold: Any) -> None:
    out = online.compute_score("math", response, gold)
    assert out["rubricate_unscorable"] == 1.0 and out["rubricate_reason"] == "invalid_input"
    assert out["score"] == reward.unscorable_value != 1.0
    assert online.trl_reward(prompts=["p"], completions=[response], ground_truth=[gold]) == [None]


def test_numbers_as_gold_answers_are_compared_as_text(reward: OnlineReward) -> None:
    assert online.compute_score("m", "So \\boxed{5}.", 5)["score"] == 1.0
    assert online.compute_score("m", "So \\boxed{2.5}.", 2.5)["score"] == 1.0
    assert online.compute_score("m", "So \\boxed{6}.", 5)["score"] == 0.0


# -- item 2: a hard time limit per sample, wherever the entry point is called from -----------------------
HARD = [
    ("So \\boxed{9^{9^{9^{9}}}}.", "7"),
    ("So \\boxed{((10!)!)!}.", "7"),
    ("x = 2^{2^{40}}", "7"),
    ("\\boxed{" * 8000, "7"),  # repeated unclosed \boxed{ (quadratic extraction before the wt-verify fix)
    # The rules now refuse the inputs above quickly; math-verify's parser still spends 0.3-2 s on a run of
    # unbalanced parentheses, so a short limit is still exceeded by a real input.
    ("So \\boxed{" + "(" * 100 + "}.", "7"),
]


def _call_everywhere(fn: Callable[[], Any]) -> dict[str, Any]:
    """fn's result from the main thread, a worker thread and an asyncio loop's executor (verl's reward loop)."""
    results: dict[str, Any] = {"main": fn()}
    box: dict[str, Any] = {}
    t = threading.Thread(target=lambda: box.update(thread=fn()), daemon=True)
    t.start()
    t.join(HANG_GUARD_S)
    assert not t.is_alive(), "the reward did not return in a worker thread"
    results["thread"] = box["thread"]

    async def in_loop() -> Any:
        return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(None, fn), HANG_GUARD_S)

    results["asyncio"] = asyncio.run(in_loop())
    return results


@pytest.mark.slow
def test_hard_inputs_answer_within_the_limit_from_any_thread(reward: OnlineReward) -> None:
    responses, golds = [r for r, _ in HARD], [g for _, g in HARD]
    for where, out in _call_everywhere(lambda: online.compute_score_batch(["m"] * len(HARD), responses, golds, None)).items():
        for (response, _), o in zip(HARD, out):
            assert o["score"] != reward.rule.correct_value, (where, response[:30], o)
            if o["rubricate_unscorable"]:
                assert o["rubricate_reason"] in ("rule_timeout", "answer_unverified"), o
    one = _call_everywhere(lambda: online.compute_score("m", HARD[0][0], HARD[0][1]))
    assert all(o["score"] != 1.0 for o in one.values())


@pytest.mark.slow
def test_a_sample_past_the_limit_is_unscorable_and_the_worker_is_replaced(tmp_path: Path) -> None:
    """A limit far too short for these inputs (whatever the verifier's speed-ups, some run past 0.05 s):
    a sample past it is unscorable (rule_timeout), never correct and never the wrong answer's 0."""
    r = OnlineReward(parse_config({"data_dir": str(tmp_path), "rewards": {"online": {"timeout_s": 0.05, "workers": 1}}}))
    try:
        out = r.safe_score([Sample.of(resp, gold) for resp, gold in HARD])
        assert all(s.reward != r.rule.correct_value for s in out), out
        timed_out = [s for s in out if s.reason == "rule_timeout"]
        assert timed_out and r._pool is not None and r._pool.timeouts >= 1, out
        assert all(s.status == "unscorable" and s.reward == r.unscorable_value == 0.5 for s in timed_out)
        assert all("timeout after 0.05s" in (s.detail or "") for s in timed_out)
    finally:
        r.close()


# -- item 4: an outage is not a wrong answer (real servers on 127.0.0.1) -----------------------------------
class ClosingServer:
    """Accepts connections on 127.0.0.1 and closes them without answering (a crashed proxy, a dying server)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)  # so that the accept loop sees `stop`
        self.accepted = 0
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.recv(65536)
            conn.close()

    def __enter__(self) -> "ClosingServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join(5)
        self.sock.close()


def _failing_reward(tmp_path: Path, url: str, **online_cfg: Any) -> OnlineReward:
    from rubricate.judge.config import JudgeConfig
    from rubricate.judge.factory import make_judge
    from rubricate.llm.backends import get_backend

    cfg = parse_config({
        "data_dir": str(tmp_path / "data"),
        "llm": {"kind": "litellm", "model": "openai/stub", "api_base": url, "max_retries": 1, "retry_base_s": 0.01,
                "timeout_s": 10, "cache": False},
        "rewards": {"online": {"timeout_s": 5, "workers": 1, **online_cfg}},  # one worker: a cheaper start
    })
    backend = get_backend(cfg.llm)
    return OnlineReward(cfg, backend=backend, judge=make_judge("plain", backend, JudgeConfig()))


@pytest.fixture(params=["http_500", "connection_closed"])
def failing_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "http_500":
        with StubOpenAIServer(lambda body, n: Reply(status=500)) as server:
            yield server.url
    else:
        with ClosingServer() as server:
            yield server.url


# (response, gold): the judge is needed (no gold), the LLM verifier is needed (the rules reject), neither.
OUTAGE_BATCH = [(RIGHT, None), (WRONG, "4"), (RIGHT, "4")]


def test_an_llm_outage_is_not_a_wrong_answer_for_any_trainer(tmp_path: Path, failing_url: str, caplog: pytest.LogCaptureFixture) -> None:
    r = _failing_reward(tmp_path, failing_url)
    online.set_default(r)
    try:
        assert r.unscorable_value == 0.5 != r.rule.incorrect_value  # default: the midpoint, never the wrong answer's 0
        responses, golds = [x for x, _ in OUTAGE_BATCH], [g for _, g in OUTAGE_BATCH]
        with caplog.at_level(logging.INFO, logger="rubricate.rewards.online"):
            verl = online.compute_score_batch(["m"] * 3, responses, golds, [{"problem": "What is 2+2?"}] * 3)
        assert [(o["score"], o["rubricate_unscorable"], o["rubricate_reason"]) for o in verl] == [
            (0.5, 1.0, "judge_error"), (0.5, 1.0, "llm_verifier_error"), (1.0, 0.0, "rules_correct")]
        assert "2 of 3 samples unscorable" in caplog.text

        trl = online.trl_reward(prompts=["What is 2+2?"] * 3, completions=responses, ground_truth=golds)
        assert trl == [None, None, 1.0]

        out = online.reward_func(responses, [""] * 3, golds)
        assert out["rewards"].tolist() == [0.5, 0.5, 1.0]
        assert out["extra_logs"]["rubricate_unscorable"].tolist() == [1.0, 1.0, 0.0]
    finally:
        online.set_default(None)
        r.close()


def test_unscorable_value_and_trl_value_are_configurable(tmp_path: Path) -> None:
    with StubOpenAIServer(lambda body, n: Reply(status=500)) as server:
        r = _failing_reward(tmp_path, server.url, unscorable={"value": -0.25, "trl": "value"})
        try:
            assert TRLReward(r)(prompts=["q"], completions=[RIGHT], ground_truth=[None]) == [-0.25]
        finally:
            r.close()


def test_the_rules_unscorable_value_still_applies_and_warns_when_it_equals_wrong(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = parse_config({"data_dir": str(tmp_path), "rewards": {"rule": {"unscorable": "value", "unscorable_value": 0.0}}})
    with caplog.at_level(logging.WARNING, logger="rubricate.rewards.online"):
        r = OnlineReward(cfg)
    assert r.unscorable_value == 0.0 and "the same as a wrong answer" in caplog.text


def test_too_many_unscorable_samples_stop_training_when_configured(tmp_path: Path) -> None:
    with StubOpenAIServer(lambda body, n: Reply(status=500)) as server:
        r = _failing_reward(tmp_path, server.url, unscorable={"max_share": 0.5, "window": 4})
        online.set_default(r)
        try:
            with pytest.raises(UnscorableShareError, match="4 of the last 4 samples could not be scored.*judge_error: 4"):
                online.trl_reward(prompts=["q"] * 4, completions=[RIGHT] * 4, ground_truth=[None] * 4)
            # one sample per call (verl's naive manager, OpenRLHF): judged over the window of the last 4
            for _ in range(3):
                assert online.compute_score("m", RIGHT, None)["rubricate_unscorable"] == 1.0
            with pytest.raises(UnscorableShareError):
                online.compute_score("m", RIGHT, None)
            # half unscorable is not more than half: no stop
            assert len(online.compute_score_batch(["m"] * 4, [RIGHT] * 4, [None, None, "4", "4"], None)) == 4
        finally:
            online.set_default(None)
            r.close()


def test_no_answer_is_the_responses_fault_not_an_outage(reward: OnlineReward, tmp_path: Path) -> None:
    no_answer = "I am not sure how to continue from here, so I will stop."
    out = online.compute_score("m", no_answer, "4")
    assert (out["score"], out["rubricate_unscorable"], out["rubricate_reason"]) == (0.0, 0.0, "no_answer")
    strict = OnlineReward(parse_config({"data_dir": str(tmp_path), "rewards": {"online": {"no_answer": "unscorable"}}}))
    try:
        s = strict.score([Sample.of(no_answer, "4")])[0]
        assert s.status == "unscorable" and s.reason == "no_answer" and s.reward == 0.5
    finally:
        strict.close()


def test_verl_float_form_on_request(tmp_path: Path) -> None:
    r = OnlineReward(parse_config({"data_dir": str(tmp_path), "rewards": {"online": {"verl_extra_info": False}}}))
    online.set_default(r)
    try:
        assert online.compute_score("m", RIGHT, "4") == 1.0
        assert online.compute_score_batch(["m"], [WRONG], ["4"], None) == [0.0]
    finally:
        online.set_default(None)
        r.close()


def test_describe_states_the_bound_and_the_unscorable_policy(reward: OnlineReward) -> None:
    d = json.loads(online.describe())
    assert d["timeout_s"] == 2 and d["unscorable_value"] == 0.5 and d["unscorable"]["trl"] == "none"


# -- concurrent callers (verl's reward loop, OpenRLHF: one sample per call, many threads) -------------------
def test_concurrent_calls_share_batches_and_each_gets_its_own_results() -> None:
    from rubricate.rewards.shared_map import SharedMap

    release = threading.Event()
    runs: list[list[int]] = []

    def run(jobs: list[int]) -> list[int]:
        runs.append(list(jobs))
        if len(runs) == 1:
            release.wait(HANG_GUARD_S)  # the first batch is in flight while the others arrive
        return [j * 10 for j in jobs]

    shared: SharedMap[int, int] = SharedMap(run)
    results: dict[int, list[int]] = {}
    threads = [threading.Thread(target=lambda k=k: results.update({k: shared.map([k, k + 100])})) for k in range(4)]
    threads[0].start()
    while not runs:
        threading.Event().wait(0.01)
    for t in threads[1:]:
        t.start()
    while len(shared._queued) < 3:
        threading.Event().wait(0.01)
    release.set()
    for t in threads:
        t.join(HANG_GUARD_S)
    assert results == {k: [k * 10, (k + 100) * 10] for k in range(4)}
    assert len(runs) == 2 and sorted(runs[1]) == sorted([1, 101, 2, 102, 3, 103])  # the three waiting calls went out together


def test_a_failing_batch_fails_every_call_in_it_and_the_next_batch_runs() -> None:
    from rubricate.rewards.shared_map import SharedMap

    calls = iter([RuntimeError("workers gone"), None])

    def run(jobs: list[int]) -> list[int]:
        err = next(calls)
        if err:
            raise err
        return jobs

    shared: SharedMap[int, int] = SharedMap(run)
    with pytest.raises(RuntimeError, match="workers gone"):
        shared.map([1])
    assert shared.map([2]) == [2]


def test_many_threads_score_at_once_with_the_right_results(reward: OnlineReward) -> None:
    cases = [(RIGHT, "4", 1.0), (WRONG, "4", 0.0)] * 8
    out: dict[int, Any] = {}
    threads = [threading.Thread(target=lambda i=i, c=c: out.update({i: online.compute_score("m", c[0], c[1])})) for i, c in enumerate(cases)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG_GUARD_S)
    assert [out[i]["score"] for i in range(len(cases))] == [c[2] for c in cases]


def test_a_judge_slower_than_the_deadline_leaves_the_sample_unscorable_in_time(tmp_path: Path) -> None:
    """The server answers after 3 s; the batch deadline is 0.5 s: the trainer gets its answer, the sample is unscorable."""
    slow = json.dumps({"verdict": "correct", "first_error_step": None, "explanation": "slow"})
    with StubOpenAIServer(lambda body, n: Reply(slow, delay_s=3.0)) as server:
        r = _failing_reward(tmp_path, server.url, llm_deadline_s=0.5)
        try:
            box: dict[str, Any] = {}
            t = threading.Thread(target=lambda: box.update(out=r.safe_score([Sample.of(RIGHT, None, "What is 2+2?")])), daemon=True)
            t.start()
            t.join(HANG_GUARD_S)
            assert not t.is_alive()
            (s,) = box["out"]
            assert s.status == "unscorable" and s.reason == "judge_error" and "llm_deadline_s=0.5" in (s.detail or "")
        finally:
            r.close()


def test_an_unreadable_sample_does_not_fail_its_batch(reward: OnlineReward) -> None:
    deep: list[Any] = []
    for _ in range(100_000):  # deeper than Python's recursion limit
        deep = [deep]
    out = online.compute_score_batch(["m", "m"], [RIGHT, RIGHT], [deep, "4"], None)
    assert [(o["rubricate_unscorable"], o["rubricate_reason"]) for o in out] == [(1.0, "invalid_input"), (0.0, "rules_correct")]
