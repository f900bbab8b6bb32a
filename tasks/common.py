"""What every task needs: the config, the shared store, a progress logger."""

from __future__ import annotations

import logging
from typing import Any, Callable

from prefect import get_run_logger
from prefect.exceptions import MissingContextError

from rubricate.config import PipelineConfig
from rubricate.store import Store, open_store


def store_for(cfg: PipelineConfig) -> Store:
    return open_store(cfg.store_path())


def run_logger() -> logging.Logger | logging.LoggerAdapter[Any]:
    try:
        return get_run_logger()
    except MissingContextError:  # called through .fn() outside a run
        return logging.getLogger("rubricate")


def progress_logger(stage: str) -> Callable[[Any], None]:
    """A callback that logs a stage's progress reports to the Prefect run log."""
    logger = run_logger()

    def log_progress(report: Any) -> None:
        as_dict = report.as_dict() if hasattr(report, "as_dict") else report
        logger.info("%s progress: %s", stage, as_dict)

    return log_progress
