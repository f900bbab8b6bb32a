"""Build one rubric version from the stored descriptions: cluster, merge, categorise, name, map, store.

The build reads every ok description in scope (old and new: the rubric reflects all the data), so a
refresh re-clusters cheaply while only the traces that arrived since the last version were described
and embedded (earlier stages). Nothing changed since the newest version (same descriptions, same
parameters) -> no new version, unless forced.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import polars as pl

from rubricate.errors import RubricateError
from rubricate.ids import content_hash
from rubricate.llm.base import LLMBackend, LLMConfig
from rubricate.rubric.cluster import NOISE, Clustering, centroids, cluster_embeddings
from rubricate.rubric.config import RubricConfig
from rubricate.rubric.descriptions import describer_id, scope_params
from rubricate.rubric.embed import Embedder, embed_missing, embedding_model_id, to_matrix
from rubricate.rubric.hierarchy import group_categories, merge_near_duplicates
from rubricate.rubric.lineage import match_items, new_item_id
from rubricate.rubric.model import Rubric
from rubricate.rubric.naming import ItemText, category_names, llm_names, offline_names
from rubricate.rubric.versions import VersionRecord, item_centroids, latest_version, version_items, write_version
from rubricate.store.db import Store, utcnow

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    version_id: str
    rubric_name: str
    status: str
    message: str
    created: bool  # False: nothing changed since `version_id`, no new version was stored
    n_descriptions: int = 0
    n_new_traces: int = 0
    n_items: int = 0
    n_categories: int = 0
    n_uncategorised: int = 0
    n_noise_assigned: int = 0
    n_merged: int = 0
    n_failed_descriptions: int = 0
    changes: dict[str, int] | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_params(rcfg: RubricConfig) -> dict[str, Any]:
    """What decides a build's result (the scope and description source are in the describer id and the key)."""
    return rcfg.model_dump(mode="json", include={"cluster", "naming", "match_min_similarity", "embedder"})


def _status_counts(store: Store, did: str, rcfg: RubricConfig, trace_ids: Sequence[str] | None) -> dict[str, int]:
    rows = store.execute("rubric/description_counts", {"describer_id": did, **scope_params(rcfg, trace_ids)})
    return {str(s): int(n) for s, n in rows}


def _name_items(
    rcfg: RubricConfig, llm: LLMConfig, store: Store, backend: LLMBackend | None,
    texts: list[str], labels: np.ndarray, sims: np.ndarray, cents: np.ndarray, frame: pl.DataFrame,
) -> list[ItemText]:
    k = cents.shape[0]
    keywords = frame["keyword"].to_list() if rcfg.source == "llm" else None
    checks = frame["how_to_check"].to_list() if rcfg.source == "llm" else None
    items = offline_names(texts, labels, sims, k, rcfg.naming.n_examples, keywords, checks)
    if rcfg.naming.namer == "llm" and k:
        if backend is None:
            if llm.kind == "none":
                raise RubricateError(
                    "rubric.naming.namer is 'llm' but llm.kind is 'none': configure the `llm:` section or set "
                    "rubric.naming.namer: offline"
                )
            from rubricate.llm.backends import get_backend

            backend = get_backend(llm, store=store)
        items = llm_names(texts, labels, sims, cents, items, backend, rcfg.naming.n_central, rcfg.naming.n_contrast)
    return items


def build_rubric_version(
    store: Store,
    rcfg: RubricConfig,
    llm: LLMConfig,
    *,
    force: bool = False,
    backend: LLMBackend | None = None,
    embedder: Embedder | None = None,
    trace_ids: Sequence[str] | None = None,
) -> BuildReport:
    """Cluster the described errors in scope into a new rubric version (or report that nothing changed)."""
    t0 = time.perf_counter()
    name = rcfg.rubric_name()
    did = describer_id(rcfg, llm)
    model_id = embedding_model_id(rcfg.embedder)
    query = {"describer_id": did, "model_id": model_id, **scope_params(rcfg, trace_ids)}
    frame = store.frame("rubric/build_input", query)
    if frame.filter(pl.col("embedding").is_null()).height:  # build called without the embed stage: embed now
        embedder = embedder or Embedder(rcfg.embedder)
        embed_missing(store, embedder, frame.filter(pl.col("embedding").is_null()).select("text_hash", pl.col("description").alias("text")))
        frame = store.frame("rubric/build_input", query)
    counts = _status_counts(store, did, rcfg, trace_ids)
    n_failed = counts.get("error", 0)
    params = build_params(rcfg)
    build_key = content_hash("build", did, model_id, params, frame.select("trace_id", "text_hash").rows())
    newest = latest_version(store, name)
    if newest is not None and newest["build_key"] == build_key and not force:
        return BuildReport(
            version_id=newest["version_id"], rubric_name=name, status=newest["status"], created=False,
            message=f"nothing changed since {newest['version_id']} (same descriptions and parameters); no new version",
            n_descriptions=frame.height, n_items=newest["n_items"], seconds=round(time.perf_counter() - t0, 3),
        )
    reference = latest_version(store, name, with_items=True)  # ids persist from the newest version that has items
    seq = int(store.scalar("rubric/next_seq", {"rubric_name": name}))
    version_id = f"{name}-v{seq}-{build_key[:8]}"

    x = to_matrix(frame["embedding"]) if frame.height else np.zeros((0, 0), dtype=np.float32)
    clustering = cluster_embeddings(x, rcfg.cluster)
    labels, n_merged = merge_near_duplicates(x, clustering.labels, rcfg.naming.merge_min_similarity) if clustering.n_clusters else (clustering.labels, 0)
    k = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
    cents = centroids(x, labels, k)
    sims = member_similarity(x, labels, cents)
    texts = frame["description"].to_list()
    item_texts = _name_items(rcfg, llm, store, backend, texts, labels, sims, cents, frame)
    item_cat = group_categories(cents, rcfg.naming.n_categories, rcfg.naming.category_min_similarity)
    cat_names = category_names(item_texts, [int((labels == i).sum()) for i in range(k)], item_cat)

    prev_items = version_items(store, reference["version_id"]) if reference else pl.DataFrame()
    prev_ids = prev_items["item_id"].to_list() if not prev_items.is_empty() else []
    ids, changes = match_items(
        prev_ids, item_centroids(prev_items), cents, rcfg.match_min_similarity, lambda i: new_item_id(name, version_id, i)
    )
    n_new = _count_new(store, frame, reference)
    status, message = _outcome(clustering, n_merged, counts)
    assigned = clustering.assigned & (labels >= 0)
    record = VersionRecord(
        row={
            "version_id": version_id, "rubric_name": name, "parent_version_id": reference["version_id"] if reference else None,
            "seq": seq, "status": status, "message": message, "domain": rcfg.domain, "describer_id": did,
            "embedder": model_id, "namer": rcfg.naming.namer, "params": json.dumps({**params, "clustering": clustering.params}),
            "build_key": build_key, "n_descriptions": frame.height, "n_new_traces": n_new, "n_items": k,
            "n_categories": int(item_cat.max()) + 1 if k else 0, "n_uncategorised": int((labels == NOISE).sum()),
            "n_noise_assigned": int(assigned.sum()), "created_at": utcnow(),
        },
        items=[
            {
                "version_id": version_id, "item_id": ids[i], "name": t.name, "keyword": t.keyword, "description": t.description,
                "how_to_check": t.how_to_check, "category": cat_names[int(item_cat[i])], "examples": json.dumps(t.examples),
                "size": int((labels == i).sum()), "centroid": cents[i].tolist(), "named_by": t.named_by, "position": i,
            }
            for i, t in enumerate(item_texts)
        ],
        members=_members(version_id, frame, labels, assigned, sims, clustering, ids),
        changes=changes,
    )
    write_version(store, record)
    tally: dict[str, int] = {}
    for c in changes:
        tally[c.change] = tally.get(c.change, 0) + 1
    report = BuildReport(
        version_id=version_id, rubric_name=name, status=status, message=message, created=True,
        n_descriptions=frame.height, n_new_traces=n_new, n_items=k, n_categories=record.row["n_categories"],
        n_uncategorised=record.row["n_uncategorised"], n_noise_assigned=record.row["n_noise_assigned"], n_merged=n_merged,
        n_failed_descriptions=n_failed, changes=tally, seconds=round(time.perf_counter() - t0, 3),
    )
    log.info("rubric build: %s", report.as_dict())
    return report


def _count_new(store: Store, frame: pl.DataFrame, reference: dict[str, Any] | None) -> int:
    """Traces in this build that the reference version was not built from."""
    if reference is None or frame.is_empty():
        return frame.height
    counted = store.frame("rubric/count_new_members", {"version_id": reference["version_id"]}, incoming=frame.select("trace_id"))
    return int(counted["n"][0])


def _outcome(clustering: Clustering, n_merged: int, counts: dict[str, int]) -> tuple[str, str]:
    """The version's status and message: the clustering's, made partial when descriptions are missing."""
    status, message = clustering.status, clustering.message
    if n_merged:
        message += f"; {n_merged} near-duplicate clusters merged"
    n_failed = counts.get("error", 0)
    if n_failed:
        status = "partial" if status == "complete" else status
        message += (f"; {n_failed} wrong traces have no description (the LLM answer did not parse: see error_descriptions "
                    "with status 'error'); they are retried on the next refresh")
    if counts.get("skipped"):
        message += f"; {counts['skipped']} wrong traces were skipped (their dataset carries no error text; use rubric.source: llm)"
    return status, message


def member_similarity(x: np.ndarray, labels: np.ndarray, cents: np.ndarray) -> np.ndarray:
    """Cosine similarity of each point to its item's centroid (nan for uncategorised points)."""
    out = np.full(labels.shape[0], np.nan)
    inside = labels >= 0
    if inside.any():
        out[inside] = np.einsum("ij,ij->i", x[inside], cents[labels[inside]])
    return out


def _members(
    version_id: str, frame: pl.DataFrame, labels: np.ndarray, assigned: np.ndarray, sims: np.ndarray,
    clustering: Clustering, ids: list[str],
) -> list[dict[str, Any]]:
    out = []
    for j, trace_id in enumerate(frame["trace_id"].to_list()):
        label = int(labels[j])
        out.append(
            {
                "version_id": version_id, "trace_id": trace_id, "item_id": ids[label] if label >= 0 else None,
                "assigned_by": "noise" if label < 0 else ("nearest" if assigned[j] else "cluster"),
                "similarity": float(sims[j]) if label >= 0 else None,
                "x": float(clustering.coords[j, 0]), "y": float(clustering.coords[j, 1]),
            }
        )
    return out


@dataclass
class RubricBuild:
    """What `build_rubric` returns: the rubric (empty when the build found no items) and the stage reports."""

    rubric: Rubric
    describe: dict[str, Any]
    embed: dict[str, Any]
    build: BuildReport


def build_rubric(
    store: Store,
    rcfg: RubricConfig,
    *,
    llm: LLMConfig | None = None,
    trace_ids: Sequence[str] | None = None,
    force: bool = False,
    backend: LLMBackend | None = None,
) -> RubricBuild:
    """Describe, embed and build in one call, for callers outside the flow (judge_eval's labelled split).

    With `trace_ids`, only those traces are used, under the rubric name `<name>-subset-<hash of the ids>`,
    so an evaluation build never enters the nightly rubric's history.
    """
    from rubricate.rubric.descriptions import describe_new_traces
    from rubricate.rubric.embed import embed_new_descriptions
    from rubricate.rubric.versions import load_rubric

    llm = llm or LLMConfig()
    if trace_ids is not None:
        subset = content_hash("subset", sorted(trace_ids), length=8)
        rcfg = rcfg.model_copy(update={"name": f"{rcfg.rubric_name()}-subset-{subset}"})
    described = describe_new_traces(store, rcfg, llm, backend=backend, trace_ids=trace_ids)
    embedded = embed_new_descriptions(store, rcfg, described.describer_id, trace_ids=trace_ids)
    built = build_rubric_version(store, rcfg, llm, force=force, backend=backend, trace_ids=trace_ids)
    if built.n_items:
        rubric = load_rubric(store, built.version_id)
    else:
        rubric = Rubric(version_id=built.version_id, domain=rcfg.domain, embedder=embedding_model_id(rcfg.embedder),
                        items=[], status=built.status)
    return RubricBuild(rubric=rubric, describe=described.as_dict(), embed=embedded.as_dict(), build=built)
