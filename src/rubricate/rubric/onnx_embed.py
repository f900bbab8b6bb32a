"""The `onnx-int8` embedding backend: the configured sentence-transformers model, exported to ONNX and its
weights quantized to int8, run by onnxruntime.

sentence-transformers' own ONNX backend needs optimum-onnx, whose releases pin transformers below the
version this project pins, so the export is done here: torch's ONNX exporter on the model's transformer,
then onnxruntime's dynamic quantization (int8 weights per output channel, activations quantized on the fly).
Both run once per model, from its local folder (no model hub), and the result is cached under
`<data dir>/models/onnx/<model>-<hash of its weights>/`. Tokenization (the model's tokenizer.json, its
max_seq_length) and pooling (mean over the attention mask, then L2 norm) are the model's own.

Only models whose sentence-transformers pipeline is Transformer -> mean Pooling (-> Normalize) are
supported: anything else is refused with a message, never embedded differently.

The only module that imports onnx and onnxruntime (lazily: importing this module costs nothing).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from rubricate.errors import RubricateError

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)

_RECIPE = "onnx-int8-v2"  # bump when the export or quantization changes: the cache key includes it
_MODEL_FILE = "model.int8.onnx"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEmbedderError(RubricateError):
    """The model cannot be run by the onnx-int8 backend."""


def _weights_file(folder: Path) -> Path:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    raise OnnxEmbedderError(f"no model.safetensors or pytorch_model.bin in {folder}: the onnx-int8 backend exports a local model folder")


def _check_pipeline(folder: Path) -> int:
    """The max_seq_length of a Transformer -> mean Pooling (-> Normalize) model; refuses anything else."""
    modules = json.loads((folder / "modules.json").read_text()) if (folder / "modules.json").is_file() else []
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    pooling = next((m for m in modules if m.get("type", "").endswith("Pooling")), None)
    mean_only = False
    if pooling is not None:
        conf = json.loads((folder / pooling["path"] / "config.json").read_text())
        modes = {k for k, v in conf.items() if k.startswith("pooling_mode_") and v is True}
        mean_only = modes == {"pooling_mode_mean_tokens"}
    if kinds[:2] != ["Transformer", "Pooling"] or not mean_only or set(kinds[2:]) - {"Normalize"}:
        raise OnnxEmbedderError(
            f"the onnx-int8 backend runs Transformer -> mean Pooling (-> Normalize) models; {folder.name} is "
            f"{' -> '.join(kinds) or 'not a sentence-transformers folder'}: set rubric.embedder.backend to torch"
        )
    bert_conf = folder / "sentence_bert_config.json"
    return int(json.loads(bert_conf.read_text()).get("max_seq_length") or 512) if bert_conf.is_file() else 512


def cache_dir(folder: Path, data_dir: Path) -> Path:
    digest = hashlib.sha256()
    with _weights_file(folder).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(_RECIPE.encode())
    return data_dir / "models" / "onnx" / f"{folder.name}-{digest.hexdigest()[:16]}"


def export_int8(folder: Path, out_dir: Path, max_seq_length: int) -> Path:
    """Export the model's transformer to ONNX and quantize it; returns the int8 model file. Atomic: a folder
    appears complete or not at all, so a killed export leaves nothing half-written."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    t0 = time.perf_counter()
    # Eager attention exports as plain MatMul/Softmax with an additive mask; the default (SDPA) exports extra
    # Where/IsNaN masking nodes that took 7% of onnxruntime's time (v1). Same weights, same outputs.
    st = SentenceTransformer(str(folder), device="cpu", model_kwargs={"attn_implementation": "eager"})
    transformer = st[0].auto_model
    assert isinstance(transformer, torch.nn.Module)
    transformer.eval()

    class _Hidden(torch.nn.Module):
        """The transformer with keyword inputs and its last hidden state as the one output."""

        inner: torch.nn.Module

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    sample = st.tokenizer(["an example", "a second, longer example"], padding=True, return_tensors="pt")
    if "token_type_ids" not in sample:
        raise OnnxEmbedderError(f"{folder.name}: its tokenizer gives no token_type_ids; set rubric.embedder.backend to torch")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cached model is as readable as the rest of the data folder
    try:
        axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation on every call
            torch.onnx.export(
                _Hidden(transformer), tuple(sample[n] for n in _INPUTS), str(tmp / "model.onnx"), input_names=list(_INPUTS),
                output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False,
            )
        quantize_dynamic(str(tmp / "model.onnx"), str(tmp / _MODEL_FILE), weight_type=QuantType.QInt8, per_channel=True)
        (tmp / "model.onnx").unlink()
        shutil.copy(folder / "tokenizer.json", tmp / "tokenizer.json")
        (tmp / "recipe.json").write_text(json.dumps({"recipe": _RECIPE, "source": str(folder), "max_seq_length": max_seq_length}))
        try:
            os.replace(tmp, out_dir)
        except OSError:  # another process finished the same export first: keep theirs
            if not (out_dir / _MODEL_FILE).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported %s to ONNX int8 in %.1fs: %s", folder.name, time.perf_counter() - t0, out_dir)
    return out_dir / _MODEL_FILE


class OnnxInt8Encoder:
    """encode(texts) -> L2-normalised float32 rows, like the torch backend's, from the int8 ONNX model."""

    def __init__(self, folder: Path, data_dir: Path, *, batch_size: int = 64, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        max_len = _check_pipeline(folder)
        target = cache_dir(folder, data_dir)
        model_file = target / _MODEL_FILE
        if not model_file.is_file():
            log.info("exporting %s to ONNX int8 (once per model; cached in %s)", folder.name, target)
            model_file = export_int8(folder, target, max_len)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        self.session: onnxruntime.InferenceSession = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(target / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_len)
        self.tokenizer.no_padding()
        self.batch_size = batch_size
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # longest first, so a batch pads to similar lengths (what sentence-transformers does too)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in idx])
            width = max(len(e.ids) for e in encodings)
            # padding positions are masked out (attention and pooling), so their token id does not matter
            feed = {name: np.zeros((len(idx), width), dtype=np.int64) for name in _INPUTS}
            for row, e in enumerate(encodings):
                n = len(e.ids)
                feed["input_ids"][row, :n] = e.ids
                feed["attention_mask"][row, :n] = e.attention_mask
                feed["token_type_ids"][row, :n] = e.type_ids
            hidden = self.session.run(None, feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out[idx] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out
