"""Stage 2: the real offline all-MiniLM-L6-v2, the DuckDB cache, and bad model references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rubricate.rubric.config import EmbedderConfig
from rubricate.rubric.embed import DEFAULT_MODEL_ID, Embedder, EmbedderError, embed_texts_cached, load_embedder


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(EmbedderConfig())


def test_embeddings_are_cached_by_text_and_model(store, embedder: Embedder):
    texts = ["forgot to convert units", "counted a quantity twice", "forgot to convert units"]
    vectors, report = embed_texts_cached(store, embedder, texts)
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (report.n_texts, report.n_new) == (3, 2)  # the repeated text is embedded once
    assert np.allclose(vectors[0], vectors[2])
    again, report2 = embed_texts_cached(store, embedder, texts[:2] + ["a new text"])
    assert report2.n_new == 1 and np.allclose(again[:2], vectors[:2])
    assert store.table_counts(["text_embeddings"]) == {"text_embeddings": 3}


def test_a_model_path_that_does_not_exist_names_the_path_and_the_fix(tmp_path: Path):
    missing = tmp_path / "models" / "nope"
    with pytest.raises(EmbedderError) as err:
        Embedder(EmbedderConfig(model=str(missing)))
    assert str(missing) in str(err.value) and "leave it empty" in str(err.value)


def test_an_unloadable_model_name_is_a_clear_error_not_a_traceback():
    embedder = Embedder(EmbedderConfig(model="no-such-org/no-such-model"))  # a hub name: only loading can tell
    with pytest.raises(EmbedderError, match="could not load the embedding model 'no-such-org/no-such-model'"):
        embedder.encode(["x"])


def test_load_embedder_gives_the_judge_the_rubric_space():
    name, embed = load_embedder()
    assert name == DEFAULT_MODEL_ID
    assert embed(["adds a quantity twice"]).shape == (1, 384) and embed([]).shape == (0, 384)


def test_a_model_that_states_no_dimension_is_a_clear_error():
    class NoDimension:  # sentence-transformers returns None when no module of the model states its width
        def get_sentence_embedding_dimension(self) -> None:
            return None

    embedder = Embedder(EmbedderConfig())
    embedder._model = NoDimension()  # type: ignore[assignment]
    with pytest.raises(EmbedderError, match="does not state its embedding dimension"):
        embedder.encode([])
