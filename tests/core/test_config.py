from pathlib import Path

import pytest

from rubricate.config import load_config, parse_config
from rubricate.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_every_shipped_config_is_valid():
    configs = sorted((REPO / "configs").glob("*.yaml"))
    assert configs, "configs/ has no YAML files"
    for path in configs:
        load_config(path)


def test_unknown_field_is_named(tmp_path: Path):
    p = tmp_path / "c.yaml"
    p.write_text("verify:\n  wokers: 2\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert "verify.wokers" in msg and "unknown field" in msg and str(p) in msg


def test_wrong_type_names_field_and_index(tmp_path: Path):
    p = tmp_path / "c.yaml"
    p.write_text("sources:\n  - {name: a, reader: nosuch, path: x}\n")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "sources.0.reader" in str(err.value)


def test_generic_reader_needs_field_mapping():
    with pytest.raises(ConfigError, match="needs `fields`"):
        parse_config({"sources": [{"name": "a", "reader": "jsonl", "path": "x.jsonl"}]})


def test_duplicate_source_names_rejected():
    with pytest.raises(ConfigError, match="repeated: a"):
        parse_config({"sources": [{"name": "a", "reader": "sample"}, {"name": "a", "reader": "sample"}]})


def test_bad_yaml_and_missing_file(tmp_path: Path):
    p = tmp_path / "c.yaml"
    p.write_text("sources: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")


def test_config_hash_changes_with_content():
    a = parse_config({"verify": {"workers": 1}})
    b = parse_config({"verify": {"workers": 2}})
    assert a.config_hash() != b.config_hash()
    assert a.config_hash() == parse_config({"verify": {"workers": 1}}).config_hash()


def test_paths_derive_from_data_dir(tmp_path: Path):
    cfg = parse_config({"data_dir": str(tmp_path)})
    assert cfg.store_path() == tmp_path / "rubricate.duckdb"
    assert cfg.tracking_uri() == f"sqlite:///{tmp_path / 'mlflow.db'}"
