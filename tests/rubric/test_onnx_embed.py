"""The onnx-int8 embedding backend: the packaged all-MiniLM-L6-v2 exported and quantized here (offline),
against the torch backend on the same texts; its own model id in the cache; models it cannot run refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rubricate.rubric.config import EmbedderConfig
from rubricate.rubric.embed import DEFAULT_MODEL_ID, Embedder, embed_texts_cached, embedding_model_id
from rubricate.rubric.onnx_embed import OnnxEmbedderError, OnnxInt8Encoder, cache_dir

pytestmark = pytest.mark.slow

TEXTS = [
    "forgets to carry the one when adding the tens",
    "divides by the wrong number of people",
    "uses the area formula of a circle instead of its circumference",
    "counts the first day twice",
    "x",
    "assumes the two events are independent although the problem says the second depends on the first, so the "
    "probability of both is not the product of the two probabilities " * 6,  # longer than max_seq_length: truncated
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def onnx_embedder(data_dir: Path) -> Embedder:
    mp = pytest.MonkeyPatch()
    mp.setenv("RUBRICATE_DATA_DIR", str(data_dir))
    embedder = Embedder(EmbedderConfig(backend="onnx-int8"))
    embedder.encode(["warm"])  # exports once into data_dir/models/onnx
    mp.undo()
    return embedder


def test_int8_embeddings_point_where_the_torch_ones_do(onnx_embedder: Embedder):
    int8 = onnx_embedder.encode(TEXTS)
    torch = Embedder(EmbedderConfig()).encode(TEXTS)
    assert int8.shape == torch.shape == (len(TEXTS), 384) and int8.dtype == np.float32
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    cosine = (int8 * torch).sum(axis=1)
    assert cosine.min() > 0.95, cosine  # quantization moves them a little, never elsewhere
    # and neighbours stay neighbours: each text's nearest other text is the same in both spaces
    np.fill_diagonal(sim_t := torch @ torch.T, -1)
    np.fill_diagonal(sim_q := int8 @ int8.T, -1)
    assert (sim_t.argmax(axis=1) == sim_q.argmax(axis=1)).all()


def test_a_text_s_batch_moves_its_embedding_only_slightly(onnx_embedder: Embedder):
    """Activations are quantized with one scale per batch, so a text's int8 embedding depends a little on the
    texts embedded with it (the torch backend's does not, beyond float noise); order does not matter."""
    alone = np.stack([onnx_embedder.encode([t])[0] for t in TEXTS])
    together = onnx_embedder.encode(TEXTS)
    assert (alone * together).sum(axis=1).min() > 0.97  # measured 0.977 at worst (a one-letter text)
    assert np.allclose(onnx_embedder.encode(list(reversed(TEXTS)))[::-1], together, atol=1e-6)


def test_the_export_is_cached_once_per_model(onnx_embedder: Embedder, data_dir: Path):
    folder = Path(onnx_embedder._ref)
    target = cache_dir(folder, data_dir)
    assert (target / "model.int8.onnx").is_file() and json.loads((target / "recipe.json").read_text())["max_seq_length"] == 256
    before = (target / "model.int8.onnx").stat().st_mtime_ns
    OnnxInt8Encoder(folder, data_dir)  # a second encoder reuses the export
    assert (target / "model.int8.onnx").stat().st_mtime_ns == before
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary folder left behind


def test_its_embeddings_are_cached_under_their_own_model_id(store, onnx_embedder: Embedder):
    assert embedding_model_id(EmbedderConfig()) == DEFAULT_MODEL_ID
    assert onnx_embedder.model_id == embedding_model_id(EmbedderConfig(backend="onnx-int8")) == f"{DEFAULT_MODEL_ID}+onnx-int8"
    embed_texts_cached(store, onnx_embedder, TEXTS[:3])
    embed_texts_cached(store, Embedder(EmbedderConfig()), TEXTS[:3])
    assert store.table_counts(["text_embeddings"]) == {"text_embeddings": 6}  # never served one for the other


def test_a_model_with_other_pooling_is_refused_with_the_fix(onnx_embedder: Embedder, tmp_path: Path):
    folder = tmp_path / "cls-model"
    shutil.copytree(onnx_embedder._ref, folder)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}))
    with pytest.raises(OnnxEmbedderError, match="mean Pooling.*set rubric.embedder.backend to torch"):
        OnnxInt8Encoder(folder, tmp_path / "data")
    assert not (tmp_path / "data").exists()  # refused before any export
