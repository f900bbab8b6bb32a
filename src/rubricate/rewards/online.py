"""The reward as a function an RL trainer calls online: verl, TRL and OpenRLHF entry points.

Same rule as the stored rewards (`rubricate.rewards.rule.decide`), computed live:
1. the rule verifier runs in-process on every sample that has a gold answer (cheap: no process pool);
2. the LLM verifier (when `llm` is configured) re-checks, in one batch, the answers the rules did not accept;
3. the judge (rubric / plain / offline, per the `judge:` config) runs, in batches, only on samples the rule
   sends to it: no gold answer, or a right answer under `process_check`;
4. LLM calls go through the DuckDB response cache when the store can be opened.
One bad sample never raises: it gets `rule.unscorable_value` (online cannot drop a sample) and the reason
is logged on the `rubricate.rewards.online` logger.

Configuration: `OnlineReward(cfg)` explicitly, or the module-level entry points, which read the YAML
config named by the environment variable RUBRICATE_CONFIG (defaults when unset: rules only, offline judge).
The rubric comes from `rewards.online.rubric_path` (an exported rubric JSON: best for trainer machines)
or `rewards.online.rubric_version` (read from the DuckDB store).

Entry points (this module has no Prefect or MLflow in its import path):
- verl:     custom_reward_function.path=<this file>  custom_reward_function.name=compute_score
            (or name=compute_score_batch with reward_model.reward_manager=batch)
- TRL:      GRPOTrainer(reward_funcs=[rubricate.rewards.online.trl_reward], ...)
- OpenRLHF: --remote_rm_url <this file>  --label_key <gold answer column>   (uses `reward_func`)
"""

from __future__ import annotations

import json
from typing import Any, Sequence

# Absolute imports only: trainers load this file by path. No dataclass may be defined here (a module loaded
# by path without a sys.modules entry cannot define one); the engine lives in rubricate.rewards.scorer.
from rubricate.rewards.scorer import (  # noqa: F401 - re-exported for users
    ENV_CONFIG,
    OnlineReward,
    OnlineScore,
    Sample,
    as_text,
    configure,
    default_reward,
    gold_answers,
    is_truncated,
    set_default,
)


def _extra_problem(extra: Any) -> str:
    if isinstance(extra, dict):
        for key in ("problem", "question", "prompt"):
            if extra.get(key):
                return as_text(extra[key])
    return ""


# -- verl ---------------------------------------------------------------------------------------------
def compute_score(data_source: Any = None, solution_str: Any = None, ground_truth: Any = None, extra_info: Any = None, **kwargs: Any) -> float:
    """verl `custom_reward_function`: the reward of one response (a float; never raises on bad input)."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info])[0]


def compute_score_batch(
    data_sources: Sequence[Any] | None = None,
    solution_strs: Sequence[Any] | None = None,
    ground_truths: Sequence[Any] | None = None,
    extra_infos: Sequence[Any] | None = None,
    **kwargs: Any,
) -> list[float]:
    """verl's batch reward manager (`reward_model.reward_manager=batch`): one float per response."""
    responses = list(solution_strs or [])
    golds = list(ground_truths or [None] * len(responses))
    extras = list(extra_infos or [None] * len(responses))
    samples = []
    for i, resp in enumerate(responses):
        extra = extras[i] if i < len(extras) else None
        gold = golds[i] if i < len(golds) else None
        samples.append(Sample(as_text(resp), gold if isinstance(gold, (list, tuple)) else (None if gold is None else as_text(gold)), _extra_problem(extra), is_truncated(extra)))
    return [s.reward for s in default_reward().safe_score(samples)]


# -- TRL ----------------------------------------------------------------------------------------------
class TRLReward:
    """TRL `reward_funcs` entry: `(prompts, completions, **columns) -> list[float]`, one call per batch.

    TRL names reward functions by `__name__` (logged as rewards/<name>); the gold answer comes from the
    first dataset column of `rewards.online.gold_columns` that TRL passes (ground_truth, answer, ...).
    """

    def __init__(self, reward: OnlineReward | None = None, name: str = "rubricate_reward") -> None:
        self._reward = reward
        self.__name__ = name

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] | None = None, **columns: Any) -> list[float]:
        reward = self._reward or default_reward()
        online = reward.cfg.rewards.online
        comps = list(completions or [])
        n = len(comps)
        prompts_l = list(prompts or [None] * n)

        def column(names: list[str]) -> list[Any]:
            for name in names:
                values = columns.get(name)
                if isinstance(values, (list, tuple)) and len(values) == n:
                    return list(values)
            return [None] * n

        golds = column(online.gold_columns)
        problems = column(online.problem_columns)
        samples = []
        for i in range(n):
            problem = as_text(problems[i]) if problems[i] is not None else _last_user_message(prompts_l[i] if i < len(prompts_l) else None)
            samples.append(Sample(as_text(comps[i]), golds[i] if isinstance(golds[i], (list, tuple)) else (None if golds[i] is None else as_text(golds[i])), problem))
        return [s.reward for s in reward.safe_score(samples)]


def _last_user_message(prompt: Any) -> str:
    if isinstance(prompt, (list, tuple)):
        users = [m for m in prompt if isinstance(m, dict) and m.get("role") == "user"]
        return as_text(users[-1]) if users else as_text(prompt)
    return as_text(prompt)


trl_reward = TRLReward()


# -- OpenRLHF -----------------------------------------------------------------------------------------
def _response_from_query(query: str, prompt: str) -> str:
    """OpenRLHF passes prompt + response decoded together; cut the prompt off when it is found."""
    if prompt and prompt in query:
        return query[query.index(prompt) + len(prompt) :]
    return query


def _openrlhf_scores(queries: Sequence[Any], prompts: Sequence[Any], labels: Sequence[Any]) -> list[OnlineScore]:
    qs, ps, ls = list(queries or []), list(prompts or []), list(labels or [])
    samples = []
    for i, q in enumerate(qs):
        prompt = as_text(ps[i]) if i < len(ps) else ""
        label = ls[i] if i < len(ls) else None
        samples.append(Sample(_response_from_query(as_text(q), prompt), label if isinstance(label, (list, tuple)) else (None if label is None else as_text(label)), prompt))
    return default_reward().safe_score(samples)


def reward_func(queries: Sequence[Any], prompts: Sequence[Any], labels: Sequence[Any]) -> Any:
    """OpenRLHF custom reward (`--remote_rm_url <this file>`): {"rewards", "scores", "extra_logs"} as tensors.

    `scores` (used by OpenRLHF's dynamic filtering) is the reward clipped to [0, 1]; `extra_logs` has the
    fraction of unscorable samples. Without torch installed the values are lists.
    """
    scores = _openrlhf_scores(queries, prompts, labels)
    rewards = [s.reward for s in scores]
    clipped = [min(1.0, max(0.0, r)) for r in rewards]
    unscorable = [1.0 if s.status != "scored" else 0.0 for s in scores]
    try:
        import torch
    except ImportError:
        return {"rewards": rewards, "scores": clipped, "extra_logs": {"rubricate_unscorable": unscorable}}
    return {
        "rewards": torch.tensor(rewards, dtype=torch.float32),
        "scores": torch.tensor(clipped, dtype=torch.float32),
        "extra_logs": {"rubricate_unscorable": torch.tensor(unscorable, dtype=torch.float32)},
    }


def reward_func_tensor(queries: Sequence[Any], prompts: Sequence[Any], labels: Sequence[Any]) -> Any:
    """For OpenRLHF releases that expect a bare tensor of rewards from `reward_func` (older than the dict form)."""
    rewards = [s.reward for s in _openrlhf_scores(queries, prompts, labels)]
    try:
        import torch
    except ImportError:
        return rewards
    return torch.tensor(rewards, dtype=torch.float32)


def describe() -> str:
    """The active configuration, for a trainer's log."""
    r = default_reward()
    return json.dumps({"rule": r.rule.model_dump(mode="json"), "llm": r.cfg.llm.kind, "judge": r._judge_cfg().kind}, sort_keys=True)
