"""Streaming, atomic writing of every output file of one export: fixed-size chunks in, each written to every
format's writer under a temporary name, renamed into place only when the whole export succeeded.

The files of one chunk are written in parallel threads (pyarrow's Parquet writer and Polars' NDJSON writer
release the GIL), while the caller reads the next chunk from DuckDB; each file still gets its chunks in
order, so the bytes are those of a sequential export.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from rubricate.rewards.config import ExportConfig
from rubricate.rewards.export.openrlhf import openrlhf_table
from rubricate.rewards.export.trl import trl_schema, trl_table
from rubricate.rewards.export.verl import verl_schema, verl_table

if TYPE_CHECKING:
    import pyarrow as pa

# Parquet columns with few distinct values (dictionary-encoded); every other column is plain-encoded.
DICTIONARY_COLUMNS = [
    "data_source", "ability", "reward_model.style",
    "prompt.list.element.role", "completion.list.element.role",
    *(f"extra_info.{c}" for c in ("split", "reward_source", "reward_status", "reward_reason", "rubric_version", "judge_id", "reward_config_hash")),
]


def write_jsonl(table: "pa.Table", f: BinaryIO) -> None:
    """One JSON object per row, keys in column order, written by Polars' native NDJSON writer (no Python loop).

    Byte for byte what ``json.dumps(row, ensure_ascii=False, separators=(",", ":"))`` per line gives (same
    escapes: quotes, backslashes, control characters as \\n/\\t/\\u00XX; non-ASCII kept as UTF-8), with two
    differences in numbers only: a non-zero float below 1e-4 in magnitude is written in Rust's notation
    (0.00005, 2.5e-7) where Python writes 5e-05 and 2.5e-07 (the same float either way), and NaN/inf become
    null (Python wrote NaN/Infinity, which is not JSON). tests/rewards/test_export.py pins the identity.
    """
    import polars as pl

    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)  # a Table becomes a DataFrame (an Array would become a Series)
    frame.write_ndjson(f)


class Outputs:
    """Every output file of one export, written to temporary names and renamed only on success."""

    def __init__(self, out_dir: Path, cfg: ExportConfig) -> None:
        import pyarrow.parquet as pq

        self.out_dir = out_dir
        self.cfg = cfg
        self.parquet: dict[str, Any] = {}
        self.jsonl: dict[str, Any] = {}
        self.names: list[tuple[str, str]] = []  # (file name, format) in manifest order
        compression = None if cfg.compression == "none" else cfg.compression
        level = cfg.compression_level if compression in ("zstd", "gzip") else None

        def parquet(name: str, fmt: str, schema: "pa.Schema") -> None:
            self.parquet[name] = pq.ParquetWriter(
                self._tmp(name),
                schema,
                compression=compression,
                compression_level=level,
                use_dictionary=DICTIONARY_COLUMNS,  # texts and ids are unique per row: a dictionary only costs time
                write_statistics=True,
            )
            self.names.append((name, fmt))

        def jsonl(name: str, fmt: str) -> None:
            self.jsonl[name] = open(self._tmp(name), "wb")  # noqa: SIM115 - closed in close()
            self.names.append((name, fmt))

        if "verl" in cfg.formats:
            parquet("verl.parquet", "verl", verl_schema())
        if "trl" in cfg.formats:
            if "parquet" in cfg.trl_files:
                parquet("trl.parquet", "trl", trl_schema())
            if "jsonl" in cfg.trl_files:
                jsonl("trl.jsonl", "trl")
        if "openrlhf" in cfg.formats:
            jsonl("openrlhf.jsonl", "openrlhf")
        self._threads = ThreadPoolExecutor(max_workers=max(1, len(self.names)), thread_name_prefix="export-writer")
        self._pending: list[Future[None]] = []  # the previous chunk's writes

    def _tmp(self, name: str) -> Path:
        return self.out_dir / f".{name}.partial"

    def write(self, chunk: "pa.Table", start_index: int) -> None:
        """Starts the chunk's writes once the previous chunk's are done (an error in one is raised here)."""
        self._finish_pending()
        rows = chunk.num_rows
        jobs: list[Callable[[], None]] = []
        if "verl.parquet" in self.parquet:
            writer = self.parquet["verl.parquet"]
            jobs.append(lambda: writer.write_table(verl_table(chunk, start_index, self.cfg), row_group_size=rows))
        trl = trl_table(chunk, self.cfg) if "trl.parquet" in self.parquet or "trl.jsonl" in self.jsonl else None
        if "trl.parquet" in self.parquet:
            jobs.append(lambda: self.parquet["trl.parquet"].write_table(trl, row_group_size=rows))
        if "trl.jsonl" in self.jsonl:
            jobs.append(lambda: write_jsonl(trl, self.jsonl["trl.jsonl"]))
        if "openrlhf.jsonl" in self.jsonl:
            jobs.append(lambda: write_jsonl(openrlhf_table(chunk), self.jsonl["openrlhf.jsonl"]))
        self._pending = [self._threads.submit(job) for job in jobs]

    def _finish_pending(self) -> None:
        done, _ = wait(self._pending)
        self._pending = []
        for future in done:
            future.result()  # re-raises a writer's error in the caller

    def close(self, success: bool) -> None:
        """Renames every file into place on success; removes them all otherwise, or when the last writes failed
        (whose error is then raised)."""
        error: Exception | None = None
        try:
            self._finish_pending()
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the cleanup
            error, success = exc, False
        finally:
            self._threads.shutdown(wait=True)
        for w in [*self.parquet.values(), *self.jsonl.values()]:
            try:
                w.close()
            except Exception:
                if success:
                    raise
        for name, _ in self.names:
            tmp = self._tmp(name)
            if success:
                os.replace(tmp, self.out_dir / name)
            else:
                tmp.unlink(missing_ok=True)
        if error is not None:
            raise error


def rechunk(batches: Iterator["pa.RecordBatch"], rows: int) -> Iterator["pa.Table"]:
    """Exactly `rows` rows per chunk (the last may be shorter), whatever batch sizes DuckDB produces."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows).combine_chunks()
            rest = table.slice(rows)
            pending = rest.to_batches()
            count = rest.num_rows
    if count:
        yield pa.Table.from_batches(pending).combine_chunks()
