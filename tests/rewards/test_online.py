"""Online rewards: trainer signatures, the rule live, judge batching over a real local HTTP server, no crashes."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from rubricate.config import parse_config
from rubricate.rewards import online
from rubricate.rewards.online import OnlineReward, Sample, TRLReward
from tests.stub_server import Reply, StubOpenAIServer, system_text, user_text

REPO = Path(__file__).resolve().parents[2]

RIGHT = "We add 2 and 2.\n\nSo the answer is \\boxed{4}."
WRONG = "We add 2 and 3.\n\nSo the answer is \\boxed{5}."
NO_ANSWER = ("Let me think about this problem step by step. First consider the numbers involved and how they relate.\n\n"
             "I am not sure how to continue from here, so I will stop.")

GARBAGE = [
    None,
    "",
    12345,
    3.5,
    float("nan"),
    b"\xff\xfe bytes",
    {"content": {"nested": [1, 2]}},
    [[[]]],
    "\\boxed{" * 200,  # unbalanced, deeply nested
    "x" * 200_000,
    "\\boxed{\\frac{1}{0}}",
    "\x00\ud800 broken unicode",
]


@pytest.fixture
def reward(tmp_path: Path) -> OnlineReward:
    rewards = {"rule": {"unscorable": "value", "unscorable_value": -1.0}, "online": {"workers": 1}}
    r = OnlineReward(parse_config({"data_dir": str(tmp_path / "data"), "rewards": rewards}))
    online.set_default(r)  # the module-level entry points use it
    yield r
    online.set_default(None)
    r.close()  # its rule-check worker processes


def test_trainer_signatures() -> None:
    assert list(inspect.signature(online.compute_score).parameters)[:4] == ["data_source", "solution_str", "ground_truth", "extra_info"]
    assert list(inspect.signature(online.compute_score_batch).parameters)[:4] == ["data_sources", "solution_strs", "ground_truths", "extra_infos"]
    # OpenRLHF's documented form is reward_func(queries, prompts, labels, **kwargs)
    assert list(inspect.signature(online.reward_func).parameters) == ["queries", "prompts", "labels", "kwargs"]
    assert online.trl_reward.__name__ == "rubricate_reward"
    assert TRLReward(name="mine").__name__ == "mine"
    params = inspect.signature(online.TRLReward.__call__).parameters
    assert "prompts" in params and "completions" in params and any(p.kind == p.VAR_KEYWORD for p in params.values())


def test_rule_path_scores(reward: OnlineReward) -> None:
    assert online.compute_score("math", RIGHT, "4") == {"score": 1.0, "rubricate_unscorable": 0.0, "rubricate_reason": "rules_correct"}
    assert online.compute_score("math", WRONG, "4")["score"] == 0.0
    assert online.compute_score("math", RIGHT, ["7", "4"])["score"] == 1.0  # any of several gold answers
    # no final answer: the response's fault, a wrong answer (rewards.online.no_answer), the reason kept
    assert online.compute_score("math", NO_ANSWER, "4") == {"score": 0.0, "rubricate_unscorable": 0.0, "rubricate_reason": "no_answer"}
    assert [r["score"] for r in online.compute_score_batch(["a", "b"], [RIGHT, WRONG], ["4", "4"], [{}, {}])] == [1.0, 0.0]
    assert reward.stats["rules_correct"] >= 3 and reward.stats["no_answer"] == 1


def test_trl_reward_batch(reward: OnlineReward) -> None:
    prompts = [[{"role": "user", "content": "What is 2+2?"}]] * 3
    completions = [[{"role": "assistant", "content": c}] for c in (RIGHT, WRONG, RIGHT)]
    assert online.trl_reward(prompts=prompts, completions=completions, ground_truth=["4", "4", "5"]) == [1.0, 0.0, 0.0]
    # standard (string) format, gold in an `answer` column, extra columns ignored
    assert online.trl_reward(prompts=["p"], completions=[RIGHT], answer=["4"], trainer_state=object()) == [1.0]


def test_openrlhf_reward_func(reward: OnlineReward) -> None:
    import torch

    out = online.reward_func([f"<user>What?</user>{RIGHT}", f"<user>What?</user>{WRONG}"], ["<user>What?</user>"] * 2, ["4", "4"])
    assert torch.equal(out["rewards"], torch.tensor([1.0, 0.0]))
    assert torch.equal(out["scores"], torch.tensor([1.0, 0.0]))
    assert out["extra_logs"]["rubricate_unscorable"].tolist() == [0.0, 0.0]
    legacy = online.reward_func_tensor([RIGHT], [""], ["4"])
    assert isinstance(legacy, torch.Tensor) and legacy.tolist() == [1.0]


def test_never_raises_on_garbage(reward: OnlineReward) -> None:
    for value in GARBAGE:
        for gold in (value, "4", None):
            r = online.compute_score(value, value, gold, value)["score"]
            assert isinstance(r, float) and not math.isnan(r)
    n = len(GARBAGE)
    trl = online.trl_reward(prompts=GARBAGE, completions=GARBAGE, ground_truth=GARBAGE)
    assert len(trl) == n and all(x is None or isinstance(x, float) for x in trl)
    assert len(online.trl_reward(prompts=None, completions=GARBAGE, ground_truth=["4"])) == n  # wrong column length
    assert online.compute_score_batch(None, None, None, None) == []
    out = online.reward_func(GARBAGE, [None] * 3, GARBAGE)  # prompts shorter than queries
    assert out["rewards"].shape == (n,)


class ExplodingJudge:
    kind = "plain"
    judge_id = "boom"
    model = None
    prompt_id = None
    rubric_version = None

    def judge(self, traces, progress=None):
        raise RuntimeError("the judge's GPU caught fire")


def test_a_failing_judge_gives_the_unscorable_value_with_a_logged_reason(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = parse_config({"data_dir": str(tmp_path / "data"), "rewards": {"rule": {"unscorable": "value", "unscorable_value": -0.5}}})
    r = OnlineReward(cfg, judge=ExplodingJudge())
    with caplog.at_level("INFO", logger="rubricate.rewards.online"):
        scores = r.score([Sample(RIGHT, None, "What is 2+2?"), Sample(RIGHT, "4", "What is 2+2?")])
    assert [s.reward for s in scores] == [-0.5, 1.0]  # the gold sample never needed the judge
    assert scores[0].reason == "judge_error" and "caught fire" in (scores[0].detail or "")
    assert "caught fire" in caplog.text
    assert not (tmp_path / "data").exists()  # no store file appears in a trainer's folder uninvited


def _judge_script(body: dict, n: int) -> Reply:
    text = user_text(body)
    if "You check answers" in system_text(body):  # the LLM verifier's question: never equivalent here
        return Reply(json.dumps({"equivalent": False, "reason": "scripted"}))
    bad = "2 and 3" in text
    return Reply(json.dumps({"verdict": "incorrect" if bad else "correct", "first_error_step": 0 if bad else None, "explanation": "scripted"}))


def test_plain_judge_over_http_batches_and_uses_the_cache(tmp_path: Path) -> None:
    from rubricate.judge.config import JudgeConfig
    from rubricate.judge.factory import make_judge
    from rubricate.llm.backends import get_backend
    from rubricate.store import Store

    with StubOpenAIServer(_judge_script) as server:
        cfg = parse_config(
            {
                "data_dir": str(tmp_path / "data"),
                "llm": {"kind": "litellm", "model": "openai/stub", "api_base": server.url,
                        "max_retries": 1, "retry_base_s": 0.01, "timeout_s": 10},
                "rewards": {"rule": {"process_check": True}},
            }
        )
        store = Store(cfg.store_path())
        backend = get_backend(cfg.llm, store=store)
        judge = make_judge("plain", backend, JudgeConfig())
        r = OnlineReward(cfg, backend=backend, store=store, judge=judge)
        samples = [
            Sample(RIGHT, None, "What is 2+2?"),  # no gold: judge decides (correct)
            Sample(WRONG, None, "What is 2+2?"),  # no gold: judge decides (incorrect)
            Sample(RIGHT, "4", "Compute 2+2."),  # right answer + process check: judge confirms
            Sample(WRONG, "4", "What is 2+2?"),  # wrong answer: the judge is not asked, the LLM verifier is
        ]
        scores = r.score(samples)
        assert [(s.reward, s.source, s.reason) for s in scores] == [
            (1.0, "judge", "judge_correct"),
            (0.0, "judge", "judge_incorrect"),
            (1.0, "judge", "process_ok"),
            (0.0, "llm_verifier", "llm_verifier_incorrect"),  # the rules' rejection goes to the LLM verifier
        ]
        calls = len(server.bodies)
        assert calls == 4  # three samples the rule sends to the judge, one rejection to the verifier
        again = r.score(samples)
        assert [s.reward for s in again] == [s.reward for s in scores]
        assert len(server.bodies) == calls  # answered from the DuckDB response cache
        store.close()


def test_rubric_from_an_exported_json(tmp_path: Path) -> None:
    from rubricate.rubric.model import Rubric, RubricItem

    item = RubricItem(item_id="i1", name="Sign error", keyword="sign", description="Flips a sign.", how_to_check="Check signs.", category="algebra")
    path = Rubric(version_id="rv-json", items=[item]).to_json(tmp_path / "rubric.json")
    cfg = parse_config({"data_dir": str(tmp_path / "data"), "judge": {"rubric_path": str(path)}})
    rubric = OnlineReward(cfg)._load_rubric()
    assert rubric is not None and rubric.version_id == "rv-json" and rubric.item_ids == {"i1"}


def test_the_old_online_rubric_setting_says_where_it_moved(tmp_path: Path) -> None:
    from rubricate.errors import ConfigError

    with pytest.raises(ConfigError, match="rewards.online.rubric_path moved to judge.rubric_path"):
        parse_config({"data_dir": str(tmp_path / "data"), "rewards": {"online": {"rubric_path": "r.json"}}})


def test_import_path_has_no_prefect_or_mlflow(tmp_path: Path) -> None:
    code = (
        "import sys; from rubricate.rewards import online; "
        "r = online.compute_score('m', 'so \\\\boxed{4}', '4')['score']; "
        "bad = [m for m in ('prefect', 'mlflow', 'litellm', 'sentence_transformers') if m in sys.modules]; "
        "print(r, bad)"
    )
    env = {"PYTHONPATH": str(REPO), "RUBRICATE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["1.0", "[]"]


def test_config_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\nrewards:\n  rule:\n    correct_value: 2.0\n")
    monkeypatch.setenv(online.ENV_CONFIG, str(path))
    online.set_default(None)
    try:
        assert online.compute_score("m", RIGHT, "4")["score"] == 2.0
        assert json.loads(online.describe())["rule"]["correct_value"] == 2.0
    finally:
        online.set_default(None)


def _verifier_script(body: dict, n: int) -> Reply:
    text = user_text(body)
    return Reply(json.dumps({"equivalent": "one half" in text, "reason": "scripted"}))


def test_llm_verifier_recovers_false_negatives_online(tmp_path: Path) -> None:
    from rubricate.llm.backends import get_backend

    half = "Half of the pie is left.\n\nSo the answer is \\boxed{one half}."
    with StubOpenAIServer(_verifier_script) as server:
        cfg = parse_config(
            {
                "data_dir": str(tmp_path / "data"),
                "llm": {"kind": "litellm", "model": "openai/stub", "api_base": server.url, "max_retries": 1, "retry_base_s": 0.01, "timeout_s": 10},
            }
        )
        r = OnlineReward(cfg, backend=get_backend(cfg.llm))
        scores = r.score([Sample(half, "\\frac{1}{2}", "How much pie is left?"), Sample(WRONG, "4", "What is 2+2?"), Sample(RIGHT, "4", "What is 2+2?")])
        assert [(s.reward, s.source, s.reason) for s in scores] == [
            (1.0, "llm_verifier", "llm_verifier_correct"),  # the rules rejected "one half"; the LLM recovers it
            (0.0, "llm_verifier", "llm_verifier_incorrect"),
            (1.0, "rules", "rules_correct"),  # accepted by the rules: never sent to the LLM
        ]
        assert len(server.bodies) == 2
    offline = OnlineReward(parse_config({"data_dir": str(tmp_path / "data2")}))
    assert offline.score([Sample(half, "\\frac{1}{2}", "How much pie is left?")])[0].reason == "rules_incorrect"


@pytest.mark.parametrize("module_name", ["custom_module", "reward_func"])
def test_loads_by_file_path_like_verl_and_openrlhf(module_name: str, tmp_path: Path) -> None:
    """verl registers the module in sys.modules, OpenRLHF does not; both must load it and share the instance."""
    import importlib.util

    from rubricate.rewards import scorer

    spec = importlib.util.spec_from_file_location(module_name, REPO / "src" / "rubricate" / "rewards" / "online.py")
    module = importlib.util.module_from_spec(spec)
    if module_name == "custom_module":
        sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
        shared = OnlineReward(parse_config({"data_dir": str(tmp_path)}))
        online.set_default(shared)
        assert module.compute_score("m", RIGHT, "4")["score"] == 1.0
        assert module.reward_func([RIGHT], [""], ["4"])["rewards"].tolist() == [1.0]
        assert scorer.default_reward() is shared and shared.stats["rules_correct"] == 2
    finally:
        online.set_default(None)
        sys.modules.pop(module_name, None)


@pytest.mark.slow
def test_offline_judge_online_learns_from_the_store(tmp_path: Path) -> None:
    """No model configured: samples without gold go to the offline judge, fitted on the store's labelled traces."""
    from rubricate.ingest import ingest_source
    from rubricate.store import Store

    cfg = parse_config({"data_dir": str(tmp_path / "data"), "sources": [{"name": "sample", "reader": "sample", "options": {"n_problems": 20, "seed": 3}}]})
    with Store(cfg.store_path()) as store:
        ingest_source(store, cfg.sources[0])
    r = OnlineReward(cfg)
    scores = r.score([Sample(RIGHT, None, "What is 2+2?"), Sample(WRONG, None, "What is 2+2?")])
    assert all(s.source == "judge" and s.reason in ("judge_correct", "judge_incorrect") for s in scores), scores


def test_the_parts_are_built_when_the_reward_is_configured(tmp_path: Path) -> None:
    """The backend, the rubric and an LLM judge exist right after configuring; a part that cannot be built is the
    reason its samples are unscorable, never an exception in the trainer."""
    base = {"data_dir": str(tmp_path / "data"), "rewards": {"rule": {"process_check": True}, "online": {"workers": 1}},
            "llm": {"kind": "litellm", "model": "openai/m", "api_base": "http://127.0.0.1:9/v1", "cache": False}}
    ready = OnlineReward(parse_config({**base, "judge": {"kind": "plain"}}))
    assert ready._judge is not None and ready._judge.kind == "plain" and ready._judge_error is None
    broken = OnlineReward(parse_config({**base, "judge": {"kind": "rubric", "rubric_path": str(tmp_path / "missing.json")}}))
    assert broken._judge is None and "missing.json" in (broken._judge_error or "")
    [score] = broken.safe_score([Sample.of(RIGHT, "4")])  # a right answer the judge must pass: it cannot
    assert score.unscorable and "missing.json" in (score.detail or "")
    broken.close()
    ready.close()


def test_a_rules_only_reward_opens_no_store(tmp_path: Path) -> None:
    from rubricate.store import Store

    data = tmp_path / "data"
    Store(data / "rubricate.duckdb").close()  # a store exists, as it would beside a pipeline
    r = OnlineReward(parse_config({"data_dir": str(data)}))
    assert r._store is None  # DuckDB's write lock stays free for the pipeline
