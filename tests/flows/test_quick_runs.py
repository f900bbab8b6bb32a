"""Every local deployment's Quick run succeeds on the demo data (issue 15, item 5), and links its MLflow run.

A Quick run in the Prefect UI runs the deployment's flow with its parameters from prefect.yaml, in this checkout
(the pull step's working directory), with the Makefile's environment. Here: the flow object called with exactly
those parameters, on the test Prefect API, in a fresh data folder, in the order a user meets them (the pipeline
first: the demo data; collect_traces samples SmolLM2-135M on llama.cpp, as its deployment says). The LLM demo needs
weights fetched once (`make fetch-llm`): its Quick run must stop at once with an error that says so.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow

DEPLOYMENTS = {d["name"]: d for d in yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]}
LOCAL = [name for name, d in DEPLOYMENTS.items() if d["work_pool"]["name"] == "local"]
# The order a user meets them in; the pipeline run (the demo data) is the module fixture.
ORDER = ["collect-traces", "rubric-refresh", "judge-eval", "reward-experiment", "export-rewards"]
NEEDS_SETUP = {"demo-llm": "make fetch-llm"}  # deployments whose description names a one-time step first


def quick_run(name: str) -> tuple[Any, str]:
    """The deployment's flow, called with its prefect.yaml parameters: (its result, its Prefect flow run id)."""
    from prefect.flows import load_flow_from_entrypoint

    dep = DEPLOYMENTS[name]
    flow = load_flow_from_entrypoint(str(REPO / dep["entrypoint"]), use_placeholder_flow=False)
    state = flow(**(dep.get("parameters") or {}), return_state=True)
    return state.result(), str(state.state_details.flow_run_id)


def flow_run_artifacts(flow_run_id: str) -> dict[str, str]:
    """key -> content of the artifacts of one flow run."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read() -> dict[str, str]:
        async with get_client() as client:
            found = await client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)])))
            return {str(a.key): str(a.data or "") for a in found}

    return asyncio.run(read())


def assert_links_its_mlflow_run(flow_name: str, flow_run_id: str, mlflow_run_id: str, data: Path) -> str:
    """The flow run has the link artifact to its MLflow run's page; returns the experiment id."""
    from mlflow.tracking import MlflowClient

    experiment = MlflowClient(tracking_uri=f"sqlite:///{data / 'mlflow.db'}").get_run(mlflow_run_id).info.experiment_id
    url = f"http://127.0.0.1:5000/#/experiments/{experiment}/runs/{mlflow_run_id}"
    link = flow_run_artifacts(flow_run_id).get(f"mlflow-{flow_name.replace('_', '-')}")
    assert link == f"[MLflow run {mlflow_run_id}]({url})", link
    return experiment


@pytest.fixture(scope="module")
def demo(prefect_harness, tmp_path_factory: pytest.TempPathFactory):
    """A fresh data folder, the checkout as working directory, and the pipeline's Quick run: the demo data."""
    from rubricate.llm.llamacpp_server import stop_all
    from rubricate.store import close_all

    data = tmp_path_factory.mktemp("quick-runs") / "data"
    patch = pytest.MonkeyPatch()
    patch.setenv("RUBRICATE_DATA_DIR", str(data))
    patch.chdir(REPO)
    try:
        result, flow_run_id = quick_run("pipeline")
        yield data, result, flow_run_id
    finally:
        stop_all()  # collect_traces' llama.cpp server
        close_all()
        patch.undo()


def test_every_local_deployment_has_a_quick_run_test():
    assert sorted(["pipeline", *ORDER, *NEEDS_SETUP]) == sorted(LOCAL)
    for name, step in NEEDS_SETUP.items():
        assert step in DEPLOYMENTS[name]["description"], f"{name}'s description must name `{step}`"


def test_pipeline_quick_run_makes_the_demo_data(demo):
    data, result, flow_run_id = demo
    assert result["reports"]["ingest sample"]["n_accepted"] == 180
    assert result["reports"]["ingest sample_problems"]["n_accepted"] == 4  # the problem set collect_traces samples
    assert_links_its_mlflow_run("pipeline", flow_run_id, result["mlflow_run_id"], data)


@pytest.mark.parametrize("name", ORDER)
def test_quick_run_succeeds_on_the_demo_data(demo, name: str):
    data = demo[0]
    result, flow_run_id = quick_run(name)
    flow_name = DEPLOYMENTS[name]["entrypoint"].rsplit(":", 1)[1]
    mlflow_run_id = result["mlflow_run_id"]
    experiment = assert_links_its_mlflow_run(flow_name, flow_run_id, mlflow_run_id, data)
    if name == "collect-traces":  # 2 samples of each of the 4 demo problems from SmolLM2, stored as traces
        assert (result["sample"]["n_sampled"], result["traces"]["n_accepted"]) == (8, 8)
        assert result["sample"]["policy_model"] == "smollm2-135m"
    if name == "rubric-refresh":  # the rubric artifact shows the plots the MLflow UI serves, each linked to the run
        rubric = flow_run_artifacts(flow_run_id)["rubric-default"]
        for plot in ("map.png", "sizes.png"):
            assert f"(http://127.0.0.1:5000/get-artifact?path=rubric/{plot}&run_uuid={mlflow_run_id})" in rubric
            assert f"(http://127.0.0.1:5000/#/experiments/{experiment}/runs/{mlflow_run_id}/artifactPath/rubric/{plot})" in rubric


def test_llm_demo_quick_run_stops_at_once_naming_the_fetch(demo):
    from rubricate.llm.local_models import WeightsError

    with pytest.raises(WeightsError, match="make fetch-llm"):
        quick_run("demo-llm")
    assert not (demo[0] / "models").exists()  # nothing was fetched or started
