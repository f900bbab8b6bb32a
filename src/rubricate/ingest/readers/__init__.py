"""Reader registry: `reader:` in a source config names one of these."""

from __future__ import annotations

from importlib import import_module

from rubricate.ingest.records import Reader

# The one list of readers: `reader:` in a source config names one of these (config.SourceConfig checks it).
# name -> "module:Class"; imported lazily so a reader's dependencies load only when used.
READERS: dict[str, str] = {
    "jsonl": "rubricate.ingest.readers.generic:JsonlReader",
    "parquet": "rubricate.ingest.readers.generic:ParquetReader",
    "sql": "rubricate.ingest.readers.sql:SqlReader",
    "sample": "rubricate.ingest.readers.sample:SampleReader",
    "processbench": "rubricate.ingest.readers.processbench:ProcessBenchReader",
    "prmbench": "rubricate.ingest.readers.prmbench:PRMBenchReader",
    "mr_ben": "rubricate.ingest.readers.mr_ben:MRBenReader",
    "big_bench_mistake": "rubricate.ingest.readers.big_bench_mistake:BigBenchMistakeReader",
    "mathdial": "rubricate.ingest.readers.mathdial:MathDialReader",
    "debugbench": "rubricate.ingest.readers.debugbench:DebugBenchReader",
    "verl": "rubricate.ingest.readers.verl:VerlReader",
}


def get_reader(name: str) -> Reader:
    try:
        target = READERS[name]
    except KeyError:
        raise ValueError(f"unknown reader '{name}'; known: {', '.join(READERS)}") from None
    module, cls = target.split(":")
    return getattr(import_module(module), cls)()
