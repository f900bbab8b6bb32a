"""Sample k responses per problem from a policy model and write them as a verl rollout file.

The problems come from the `problems` table (a problem set ingested with `ingest_problem_set`, e.g.
../shared/data/big_math_5k). Every (problem, sample index) is one request through the response cache, so
a rerun makes no calls and a killed run resumes. The samples are written as a verl-format rollout Parquet
file, one row per response, and ingested with the verl reader like any rollout dump: the same path into
`traces` (ids, rejected rows, counts) as every other source. The file is a useful artefact on its own:
verl, TRL and OpenRLHF tooling read it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import polars as pl

from rubricate.collect.config import CollectConfig
from rubricate.config import SourceConfig
from rubricate.errors import RubricateError
from rubricate.ids import content_hash, text_hash
from rubricate.llm.base import LLMBackend, LLMRequest, TokenSpend
from rubricate.llm.prompts import load_prompt

if TYPE_CHECKING:
    from rubricate.ingest.run import IngestReport
    from rubricate.store import Store


ROLLOUT_SCHEMA: dict[str, Any] = {
    "prompt": pl.List(pl.Struct({"role": pl.Utf8, "content": pl.Utf8})),
    "data_source": pl.Utf8,
    "ability": pl.Utf8,
    "reward_model": pl.Struct({"ground_truth": pl.Utf8, "style": pl.Utf8}),
    "extra_info": pl.Struct({"index": pl.Utf8, "problem_source_id": pl.Utf8, "problem_key": pl.Utf8}),
    "response": pl.Utf8,
    "model": pl.Utf8,
    "sample_index": pl.Int32,
    "prompt_id": pl.Utf8,
    "finish_reason": pl.Utf8,
    "reasoning": pl.Utf8,
}


@dataclass
class SampleReport(TokenSpend):
    rollout_path: str
    policy_model: str
    n_problems: int = 0
    n_requested: int = 0  # problems x k
    n_sampled: int = 0  # responses written
    n_failed: int = 0  # samples the model did not return (errors): asked again on the next run
    n_cached: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _messages(row: dict[str, Any]) -> tuple[tuple[dict[str, str], ...], str]:
    """The chat messages to send (the set's own prompt when it has one) and the prompt id stored with them."""
    if row["prompt"]:
        given = json.loads(row["prompt"])
        messages = tuple({"role": str(m.get("role", "user")), "content": str(m.get("content", ""))} for m in given)
        return messages, "dataset:" + text_hash(json.dumps(messages, sort_keys=True))
    prompt = load_prompt("collect_solve")
    return prompt.render(problem=row["problem"]), prompt.prompt_id


def default_output_dir() -> Path:
    return Path(os.environ.get("RUBRICATE_DATA_DIR") or "data") / "collected"


def sample_problem_set(
    store: "Store",
    backend: LLMBackend,
    cfg: CollectConfig,
    *,
    source_path: str | None = None,
    limit: int | None = None,
    output_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SampleReport:
    """Sample `cfg.samples_per_problem` responses for each stored problem (of one set, up to `limit`)."""
    t0 = time.perf_counter()
    problems = store.frame("collect/select_problems_to_sample", {"source_path": source_path, "limit": limit}).to_dicts()
    if not problems:
        raise RubricateError(
            f"no stored problems{f' under {source_path}' if source_path else ''}; ingest the problem set first "
            "(a verl source with `options: {problems_only: true}`)"
        )
    k = cfg.samples_per_problem
    requests: list[LLMRequest] = []
    owners: list[tuple[dict[str, Any], int, str]] = []
    for row in problems:
        messages, prompt_id = _messages(row)
        for j in range(k):
            requests.append(LLMRequest(key=f"{row['problem_key']}#{j}", messages=messages, prompt_id=prompt_id, sample_index=j,
                                       temperature=cfg.temperature, max_tokens=cfg.max_tokens))
            owners.append((row, j, prompt_id))
    responses = backend.complete(requests, progress=progress)
    out_dir = Path(output_dir or cfg.output_dir or default_output_dir())
    out_dir.mkdir(parents=True, exist_ok=True)
    name = content_hash(backend.kind, backend.model, k, cfg.temperature, cfg.max_tokens, [p["problem_key"] for p in problems])
    path = out_dir / f"rollouts-{name}.parquet"
    report = SampleReport(rollout_path=str(path), policy_model=backend.model, n_problems=len(problems), n_requested=len(requests))
    rows = []
    for (row, j, prompt_id), resp in zip(owners, responses):
        report.add_spend(resp)
        report.n_cached += int(resp.cached)
        if not resp.ok:
            report.n_failed += 1
            continue
        report.n_sampled += 1
        messages, _ = _messages(row)
        rows.append({
            "prompt": [dict(m) for m in messages],
            "data_source": row["split"] or row["dataset"],
            "ability": row["domain"],
            "reward_model": {"ground_truth": row["gold_answer"], "style": "rule"},
            # one row per sample: the sample index is part of the id, so identical responses stay distinct traces
            "extra_info": {"index": f"{row['source_id']}#s{j}", "problem_source_id": row["source_id"], "problem_key": row["problem_key"]},
            "response": resp.text,
            "model": backend.model,
            "sample_index": j,
            "prompt_id": prompt_id,
            "finish_reason": resp.raw.get("finish_reason"),
            "reasoning": resp.reasoning,
        })
    tmp = path.with_suffix(".tmp")
    pl.DataFrame(rows, schema=ROLLOUT_SCHEMA).write_parquet(tmp)
    tmp.replace(path)
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


def ingest_rollouts(store: "Store", rollout_path: str | Path, *, name: str = "collected", config_hash: str = "") -> "IngestReport":
    """Store a rollout file's responses as traces (verl reader; reruns add nothing)."""
    from rubricate.ingest.run import ingest_source

    source = SourceConfig(name=name, reader="verl", path=str(rollout_path), options={"response_field": "response"})
    return ingest_source(store, source, config_hash=config_hash)
