"""Pick the judge the config names, and the rubric it judges with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from rubricate.errors import ConfigError
from rubricate.judge.config import JudgeConfig
from rubricate.judge.records import Judge, TraceToJudge
from rubricate.llm.base import LLMBackend
from rubricate.rubric.model import Rubric

if TYPE_CHECKING:
    from rubricate.store import Store


def resolve_kind(cfg: JudgeConfig, llm_kind: str) -> str:
    """`auto` is the rubric judge when an LLM is configured, the offline judge when llm.kind is none."""
    if cfg.kind != "auto":
        return cfg.kind
    return "offline" if llm_kind == "none" else "rubric"


def make_judge(
    kind: str,
    backend: LLMBackend,
    cfg: JudgeConfig,
    rubric: Rubric | None = None,
    labelled: Sequence[TraceToJudge] | None = None,
    store: "Store | None" = None,
) -> Judge:
    """A ready judge: `rubric` (needs a rubric and an LLM), `plain` (needs an LLM), `offline` (needs labelled traces).
    With a store, the offline judge's step embeddings are cached there (text hash, model), as the rubric's are."""
    if kind in ("rubric", "plain") and backend.kind == "none":
        raise ConfigError(f"the {kind} judge needs an LLM, but llm.kind is 'none'; set llm.kind/llm.model or use judge.kind: offline")
    retries = {"max_parse_retries": cfg.max_parse_retries, "retry_temperature": cfg.retry_temperature}
    if kind == "rubric":
        from rubricate.judge.llm_judges import RubricJudge

        if rubric is None:
            raise ConfigError("the rubric judge needs a rubric: set judge.rubric_version or judge.rubric_path, or let judge_eval build one")
        return RubricJudge(backend, rubric, **retries)
    if kind == "plain":
        from rubricate.judge.llm_judges import PlainJudge

        return PlainJudge(backend, **retries)
    if kind == "offline":
        from rubricate.judge.offline import EmbeddingJudge

        name, embed = default_embedder(store)
        judge = EmbeddingJudge(embed, name, rubric, k=cfg.offline_k)
        judge.fit(labelled or [])
        return judge
    raise ConfigError(f"unknown judge kind '{kind}'; choose rubric, plain or offline")


def default_embedder(store: "Store | None" = None):  # -> tuple[str, EmbedFn]
    """The rubric miner's embedder (the space its centroids live in): all-MiniLM-L6-v2 offline by default.
    With a store, texts embedded once (by any stage) are read back instead of embedded again."""
    from rubricate.rubric.embed import load_embedder

    return load_embedder(store=store)
