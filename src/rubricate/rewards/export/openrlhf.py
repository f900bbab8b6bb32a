"""OpenRLHF: `openrlhf.jsonl` with input, output, label (the gold answer), reward and the trace id."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


OPENRLHF_COLUMNS = {"problem": "input", "response": "output", "gold_answer": "label", "reward": "reward", "trace_id": "trace_id"}


def openrlhf_table(chunk: "pa.Table") -> "pa.Table":
    return chunk.select(list(OPENRLHF_COLUMNS)).rename_columns(list(OPENRLHF_COLUMNS.values()))
