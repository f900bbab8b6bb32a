"""The Prefect and MLflow UIs in a real browser (Debian's chromium and chromedriver, driven by selenium).

What a user does after `make ui-prefect`, `make deploy`, `make demo`, `make run FLOW=rubric_refresh` and
`make ui-mlflow`, on servers of its own: a Prefect server (SQLite in a temp PREFECT_HOME, a free loopback port)
with every deployment of prefect.yaml registered as `make deploy` does, the demo pipeline and the rubric flow run
against it into a temp data folder, and an MLflow server (`mlflow server`, as `make ui-mlflow`) over that
tracking store. Then, in the browser:

- MLflow's runs table (`#/experiments/<id>/runs`) lists both runs;
- the rubric run's Artifacts tab shows map.png (the image loaded);
- the Prefect deployment form shows every parameter's description, and no parameter as a None toggle;
- the rubric flow run's Prefect artifacts link to its MLflow run and show its plots, served by the MLflow server.

Two screenshots (the Prefect deployment form, the MLflow run with the rubric map) go to $RUBRICATE_SCREENSHOTS
(default: the test's temp folder); README's "What the UIs show" shows the ones taken with docs/screenshots.
chromium and chromedriver are installed with apt-get when absent (CI runs as root); the test skips, saying why,
only where apt-get is not available. Every server is stopped at the end, also when a check fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from rubricate.processes import free_port, stop_process_group
from tests.conftest import REPO

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
SCREENSHOTS_ENV = "RUBRICATE_SCREENSHOTS"
PREFECT_SHOT = "prefect-deployment-form.png"
MLFLOW_SHOT = "mlflow-run-rubric-map.png"
WAIT_S = 60


# -- the browser -------------------------------------------------------------------------------------------
def chromium_and_driver() -> tuple[str, str]:
    """Debian's chromium and chromedriver; installed with apt-get when absent (skip only where apt-get is not)."""
    found = shutil.which("chromium"), shutil.which("chromedriver")
    if found[0] and found[1]:
        return found[0], found[1]
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.skip("chromium/chromedriver are not installed and there is no apt-get to install them (Debian: apt-get install chromium chromium-driver)")
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            pytest.skip("chromium/chromedriver are not installed, and installing them with apt-get needs root (or sudo)")
        prefix = [sudo, "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, apt, "install", "-y", "-q", "--no-install-recommends", "chromium", "chromium-driver"]
    done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:  # a stale package list: update it once and try again
        subprocess.run([*prefix, apt, "update", "-q"], env=env, capture_output=True, text=True, timeout=600)
        done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"apt-get could not install chromium and chromium-driver:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "apt-get installed chromium and chromium-driver, but they are not on PATH"
    return chromium, driver


@contextmanager
def browser(chromium: str, driver_path: str) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1300"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: Any, what: str, condition: Any, timeout: float = WAIT_S) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.5).until(condition)
    except TimeoutException:
        body = driver.execute_script("return document.body ? document.body.innerText : ''")[:3000]
        raise AssertionError(f"{what}: not seen within {timeout:.0f} s at {driver.current_url}; the page says:\n{body}") from None


def page_text(driver: Any) -> str:
    return str(driver.execute_script("return document.body ? document.body.innerText : ''"))


def loaded_image(driver: Any, src_part: str, width: int | None = None) -> Any:
    """The first <img> whose src contains `src_part` and whose picture has loaded (`width` pixels wide, when given), else False."""
    from selenium.webdriver.common.by import By

    for img in driver.find_elements(By.TAG_NAME, "img"):
        if src_part not in (img.get_attribute("src") or ""):
            continue
        loaded = driver.execute_script("return arguments[0].complete ? arguments[0].naturalWidth : 0", img)
        if loaded and (width is None or loaded == width):
            return img
    return False


def link_to(driver: Any, url: str) -> Any:
    """A visible link to `url` on the page, else False."""
    from selenium.webdriver.common.by import By

    return next((a for a in driver.find_elements(By.TAG_NAME, "a") if a.get_attribute("href") == url and a.is_displayed()), False)


def png_width(path: Path) -> int:
    """The width in the PNG header (IHDR), to tell the logged map from any other picture on the page."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(head[16:20], "big")


# -- the servers -------------------------------------------------------------------------------------------
@contextmanager
def server(cmd: list[str], env: dict[str, str], health: str, log: Path, timeout: float = 120.0) -> Iterator[None]:
    """A server in its own process group, up when `health` answers; the whole group is stopped on the way out."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"{cmd[0]} exited with {proc.returncode} before it answered; its log:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(health, timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"{health} did not answer within {timeout:.0f} s; log:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield
    finally:
        stop_process_group(proc)


def base_env(tmp: Path) -> dict[str, str]:
    """The Makefile's environment, without any Prefect or MLflow setting of the calling process (a test harness)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_", "RUBRICATE_"))}
    paths = [str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")]
    return env | {
        "PYTHONPATH": os.pathsep.join(p for p in paths if p), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True", "TOKENIZERS_PARALLELISM": "false", "MLFLOW_DISABLE_TELEMETRY": "true",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_HOME": str(tmp / "prefect"), "RUBRICATE_DATA_DIR": str(tmp / "data"),
        "RUBRICATE_REPO": str(REPO),
    }


def run(cmd: list[str], env: dict[str, str], what: str, timeout: float = 300) -> str:
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{what} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def api(url: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"}, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def uis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Both servers up, the deployments registered, the demo pipeline and the rubric flow run; stopped at the end."""
    chromium, driver = chromium_and_driver()
    tmp = tmp_path_factory.mktemp("uis")
    (tmp / "prefect").mkdir()
    (tmp / "data").mkdir()
    env = base_env(tmp)
    prefect_port, mlflow_port = free_port(), free_port()
    prefect, mlflow_ui = f"http://{HOST}:{prefect_port}", f"http://{HOST}:{mlflow_port}"
    bin_dir = Path(sys.executable).parent
    with ExitStack() as stack:
        stack.enter_context(server(
            [str(bin_dir / "prefect"), "server", "start", "--host", HOST, "--port", str(prefect_port)],
            env | {"PREFECT_UI_API_URL": f"{prefect}/api"}, f"{prefect}/api/health", tmp / "prefect-server.log"))
        # `make ui-mlflow`'s server, on the store the flows below write (its tables are made before they start)
        stack.enter_context(server(
            [str(bin_dir / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{tmp / 'data' / 'mlflow.db'}",
             "--default-artifact-root", str(tmp / "data" / "mlartifacts"), "--host", HOST, "--port", str(mlflow_port), "--workers", "1"],
            env | {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}, f"{mlflow_ui}/health", tmp / "mlflow-server.log"))
        client_env = env | {"PREFECT_API_URL": f"{prefect}/api"}
        prefect_cli = [str(bin_dir / "prefect")]
        for pool in ("local", "gpu"):  # what `make deploy` does
            run([*prefect_cli, "work-pool", "create", pool, "--type", "process", "--overwrite"], client_env, f"work pool {pool}")
        run([*prefect_cli, "--no-prompt", "deploy", "--all"], client_env, "prefect deploy --all")
        # the demo config, with its MLflow links pointing at this MLflow server
        config = yaml.safe_load((REPO / "configs" / "demo.yaml").read_text()) | {"tracking": {"ui_url": mlflow_ui}}
        config_path = tmp / "demo.yaml"
        config_path.write_text(yaml.safe_dump(config))
        run([sys.executable, "-m", "flows.pipeline", "--config", str(config_path)], client_env, "the demo pipeline")
        run([sys.executable, "-m", "flows.rubric_refresh", "--config", str(config_path)], client_env, "the rubric flow")
        yield {"prefect": prefect, "mlflow": mlflow_ui, "tmp": tmp, "chromium": chromium, "driver": driver}


def mlflow_runs(data: Path) -> tuple[str, dict[str, Any]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{data / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("rubricate")
    assert experiment is not None
    return experiment.experiment_id, {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}


def screenshot_dir(tmp: Path) -> Path:
    out = Path(os.environ.get(SCREENSHOTS_ENV) or tmp / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


# -- the checks --------------------------------------------------------------------------------------------
def test_what_the_prefect_and_mlflow_uis_show(uis: dict[str, Any]):
    from selenium.webdriver.common.by import By

    tmp, prefect, mlflow_ui = uis["tmp"], uis["prefect"], uis["mlflow"]
    shots = screenshot_dir(tmp)
    experiment, runs = mlflow_runs(tmp / "data")
    assert {"pipeline · demo", "rubric_refresh · demo · default"} <= set(runs)
    rubric_run = runs["rubric_refresh · demo · default"]
    deployment = next(d for d in api(f"{prefect}/api/deployments/filter", {}) if d["name"] == "rubric-refresh")
    described = {name: prop.get("description") for name, prop in deployment["parameter_openapi_schema"]["properties"].items()}
    assert all(described.values()), f"parameters registered without a description: {described}"
    flow_run_id = rubric_run.data.tags["prefect.flow_run_id"]
    artifacts = {a["key"]: a for a in api(f"{prefect}/api/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})}
    run_page = f"{mlflow_ui}/#/experiments/{experiment}/runs/{rubric_run.info.run_id}"

    with browser(uis["chromium"], uis["driver"]) as driver:
        # MLflow: the runs table lists both runs (the experiment's own page opens MLflow 3's GenAI view instead)
        driver.get(f"{mlflow_ui}/#/experiments/{experiment}/runs")
        wait_for(driver, "both runs in MLflow's runs table", lambda d: all(name in page_text(d) for name in runs))

        # MLflow: the rubric run's Artifacts tab shows the map
        driver.get(f"{run_page}/artifactPath/rubric/map.png")
        width = png_width(Path(rubric_run.info.artifact_uri.removeprefix("file://")) / "rubric" / "map.png")
        # MLflow's viewer fetches the file and shows it from a blob: URL
        wait_for(driver, "rubric/map.png shown in the run's Artifacts tab",
                 lambda d: "rubric/map.png" in page_text(d) and loaded_image(d, "blob:", width))
        for close in driver.find_elements(By.CSS_SELECTOR, "button[aria-label='Close']"):  # the Assistant panel: room for the run
            if close.is_displayed():
                close.click()
        time.sleep(1)
        driver.save_screenshot(str(shots / MLFLOW_SHOT))

        # Prefect: the deployment's run form shows every parameter's description
        driver.get(f"{prefect}/deployments/deployment/{deployment['id']}/run")
        wait_for(driver, "the parameter descriptions in the deployment form",
                 lambda d: all(" ".join(str(text).replace("`", "").split()) in " ".join(page_text(d).split()) for text in described.values()))
        # plain inputs with defaults, not a "str | None" toggle set to None; a choice is a dropdown set to `config`
        assert 'Property is type "None"' not in page_text(driver), "a parameter shows as a None toggle in the form"
        driver.save_screenshot(str(shots / PREFECT_SHOT))

        # Prefect: the nightly schedule's label has no time zone; the description, a tab away, says UTC
        driver.get(f"{prefect}/deployments/deployment/{deployment['id']}")
        wait_for(driver, "the schedule's label", lambda d: "At 03:00 AM every day" in page_text(d))
        tab = wait_for(driver, "the Description tab",
                       lambda d: next((t for t in d.find_elements(By.CSS_SELECTOR, "li.p-tab") if t.text.strip() == "Description"), False))
        tab.click()
        wait_for(driver, "the time zone in the description", lambda d: "Nightly at 03:00 UTC" in page_text(d))

        # Prefect -> MLflow in one click: the flow run's page opens on its logs, where the run's MLflow link is a link
        driver.get(f"{prefect}/runs/flow-run/{flow_run_id}")
        anchor = wait_for(driver, "the MLflow link in the flow run's logs", lambda d: link_to(d, run_page))
        prefect_tab, windows = driver.current_window_handle, set(driver.window_handles)
        anchor.click()
        opened = set(driver.window_handles) - windows  # Prefect opens outside links in a new tab
        if opened:
            driver.switch_to.window(opened.pop())
        wait_for(driver, "the MLflow run opened from the Prefect link",
                 lambda d: d.current_url.startswith(run_page) and "rubric_refresh · demo · default" in page_text(d))
        if opened:
            driver.close()
            driver.switch_to.window(prefect_tab)
        # ... and the link artifact, on the flow run's Artifacts tab, links it too
        assert artifacts["mlflow-rubric-refresh"]["data"] == f"[MLflow run {rubric_run.info.run_id}]({run_page})"
        driver.get(f"{prefect}/artifacts/artifact/{artifacts['mlflow-rubric-refresh']['id']}")
        wait_for(driver, "the link artifact's link to the MLflow run", lambda d: link_to(d, run_page))

        # Prefect: the rubric artifact shows the plots the MLflow server serves
        driver.get(f"{prefect}/artifacts/artifact/{artifacts['rubric-default']['id']}")
        for plot in ("map.png", "sizes.png"):
            wait_for(driver, f"{plot} from MLflow in the rubric artifact", lambda d, p=plot: loaded_image(d, f"{mlflow_ui}/get-artifact?path=rubric/{p}"))

    for name in (PREFECT_SHOT, MLFLOW_SHOT):
        assert (shots / name).stat().st_size > 10_000, name
