"""The rubric_refresh flow on real Prefect (test harness), real DuckDB, real MLflow and the real embedder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from tests.helpers import write_jsonl
from tests.rubric.conftest import FAST_CLUSTER
from tests.rubric.synthetic import source_config, synthetic_rows


@pytest.fixture
def rubric_config(tmp_path: Path) -> Path:
    data = write_jsonl(tmp_path / "wrong.jsonl", synthetic_rows(12))
    cfg = {
        "data_dir": str(tmp_path / "data"),
        "sources": [source_config("syn", data)],
        "rubric": {"cluster": FAST_CLUSTER},
    }
    path = tmp_path / "rubric.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_rubric_refresh_flow_builds_tracks_and_refreshes_incrementally(prefect_harness, rubric_config: Path, tmp_path: Path):
    from mlflow.tracking import MlflowClient
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.rubric_refresh import rubric_refresh
    from rubricate.config import load_config
    from rubricate.ingest import ingest_source
    from rubricate.rubric.embed import EmbedderError
    from rubricate.store import close_all, open_store

    cfg = load_config(rubric_config)
    ingest_source(open_store(cfg.store_path()), cfg.sources[0])

    first = rubric_refresh(config_path=str(rubric_config))
    assert first["describe"]["n_ok"] == 36 and first["embed"]["n_new"] == 18
    assert first["build"]["status"] == "complete" and first["build"]["n_items"] == 3
    client = MlflowClient(tracking_uri=cfg.tracking_uri())
    run = client.get_run(first["mlflow_run_id"])
    assert run.info.status == "FINISHED" and run.data.metrics["rubric.n_items"] == 3
    assert run.data.tags["rubric.version_id"] == first["build"]["version_id"]
    logged = {a.path for a in client.list_artifacts(run.info.run_id, "rubric")}
    assert {"rubric/rubric.md", "rubric/rubric.json", "rubric/map.png", "rubric/sizes.png", "rubric/version.json"} <= logged

    async def read_artifacts():
        async with get_client() as prefect:
            return await prefect.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["rubric-default"])))

    assert any(first["build"]["version_id"] in (a.data or "") for a in asyncio.run(read_artifacts()))

    # nothing new and the same parameters: nothing described, nothing embedded, no new version
    second = rubric_refresh(config_path=str(rubric_config), reduce="pca")
    assert (second["describe"]["n_candidates"], second["embed"]["n_new"]) == (0, 0)
    assert second["build"]["created"] is False and second["build"]["version_id"] == first["build"]["version_id"]
    # a clustering parameter from the UI makes a new version; the items keep their ids
    third = rubric_refresh(config_path=str(rubric_config), min_cluster_size=10)
    assert third["build"]["created"] is True and third["build"]["changes"] == {"kept": 3}

    # a model path that does not exist: a clear error and a FAILED MLflow run that says why
    missing = str(tmp_path / "no-model")
    with pytest.raises(EmbedderError, match="does not exist"):
        rubric_refresh(config_path=str(rubric_config), embedder=missing)
    failed = client.search_runs([run.info.experiment_id], filter_string="attributes.status = 'FAILED'")
    assert failed and missing in failed[0].data.tags["error"]
    close_all()
