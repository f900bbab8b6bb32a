"""verl: `verl.parquet` with data_source, prompt (chat messages), ability, reward_model {style, ground_truth} and
extra_info {index, trace_id, ..., reward, reward_source, ...}: the columns verl's RL dataset and reward manager read."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

from rubricate.rewards.config import ExportConfig
from rubricate.rewards.export.chat import message_type, messages


def verl_schema() -> "pa.Schema":
    import pyarrow as pa

    extra = pa.struct(
        [
            ("index", pa.int64()),
            ("trace_id", pa.string()),
            ("problem_id", pa.string()),
            ("split", pa.string()),
            ("problem", pa.string()),
            ("response", pa.string()),
            ("reward", pa.float64()),
            ("reward_source", pa.string()),
            ("reward_status", pa.string()),
            ("reward_reason", pa.string()),
            ("rubric_version", pa.string()),
            ("judge_id", pa.string()),
            ("reward_config_hash", pa.string()),
        ]
    )
    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", message_type()),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            ("extra_info", extra),
        ]
    )


def verl_table(chunk: "pa.Table", start_index: int, cfg: ExportConfig) -> "pa.Table":
    import pyarrow as pa
    import pyarrow.compute as pc

    n = chunk.num_rows
    gold = chunk["gold_answer"].combine_chunks()
    has_gold = pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(gold), ""), False)
    style = pc.if_else(has_gold, pa.scalar("rule"), pa.scalar("model"))
    reward_model = pa.StructArray.from_arrays([style, gold], names=["style", "ground_truth"])
    if cfg.ability is not None:
        ability = pa.array([cfg.ability] * n, pa.string())
    else:
        ability = pc.fill_null(chunk["domain"].combine_chunks(), "math")
    col = lambda name: chunk[name].combine_chunks()  # noqa: E731
    extra = pa.StructArray.from_arrays(
        [
            pa.array(range(start_index, start_index + n), pa.int64()),
            col("trace_id"),
            col("problem_id"),
            col("split"),
            col("problem"),
            col("response"),
            col("reward"),
            col("source"),
            col("status"),
            col("reason"),
            col("rubric_version"),
            col("judge_id"),
            col("config_hash"),
        ],
        fields=list(verl_schema().field("extra_info").type),
    )
    arrays = [col("dataset"), messages("user", col("problem"), cfg.system_prompt), ability, reward_model, extra]
    return pa.Table.from_arrays(arrays, schema=verl_schema())
