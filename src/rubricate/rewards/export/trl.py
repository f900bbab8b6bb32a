"""TRL: `trl.parquet` / `trl.jsonl` with prompt and completion as chat messages, the reward and the trace id."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

from rubricate.rewards.config import ExportConfig
from rubricate.rewards.export.chat import message_type, messages


def trl_schema() -> "pa.Schema":
    import pyarrow as pa

    return pa.schema([("prompt", message_type()), ("completion", message_type()), ("reward", pa.float64()), ("trace_id", pa.string())])


def trl_table(chunk: "pa.Table", cfg: ExportConfig) -> "pa.Table":
    import pyarrow as pa

    col = lambda name: chunk[name].combine_chunks()  # noqa: E731
    arrays = [
        messages("user", col("problem"), cfg.system_prompt),
        messages("assistant", col("response"), None),
        col("reward"),
        col("trace_id"),
    ]
    return pa.Table.from_arrays(arrays, schema=trl_schema())
