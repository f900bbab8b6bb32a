from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from rubricate.config import PipelineConfig
from rubricate.summary import dataset_summary, pipeline_markdown
from rubricate.tracking import RunTracker
from rubricate.verify.rules import VERIFIER_ID
from tasks.common import store_for


@task(name="summarize", cache_policy=NO_CACHE)
def summarize(cfg: PipelineConfig, tracker: RunTracker, stage_reports: dict) -> str:
    """Build the per-dataset summary, log it to MLflow and show it as a Prefect artifact. Returns Markdown."""
    frame = dataset_summary(store_for(cfg), VERIFIER_ID)
    markdown = pipeline_markdown(frame, stage_reports)
    tracker.log_text(markdown, "summary.md")
    tracker.log_dict({"datasets": frame.to_dicts(), "stages": stage_reports}, "summary.json")
    create_markdown_artifact(markdown=markdown, key="pipeline-summary", description="Traces and rule-verifier outcomes per dataset")
    return markdown
