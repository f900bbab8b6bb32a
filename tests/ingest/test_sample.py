"""The `sample` reader: the demo's generated set through ingest, and its options checked like any reader's."""

from __future__ import annotations

import pytest

from rubricate.config import SourceConfig
from rubricate.errors import ConfigError
from rubricate.ingest import ingest_source
from rubricate.ingest.readers.sample import SampleReader


def test_ingest_sample_into_duckdb_and_reingest(store):
    source = SourceConfig(name="sample", reader="sample", options={"n_problems": 20, "seed": 0})
    report = ingest_source(store, source)
    assert (report.n_in, report.n_accepted, report.n_rejected, report.n_duplicates) == (60, 60, 0, 0)
    cur = store.cursor()
    try:
        assert cur.execute("SELECT count(DISTINCT problem_id), count(*) FILTER (WHERE NOT label_correct) FROM traces").fetchall()[0][0] == 20
    finally:
        cur.close()
    again = ingest_source(store, source)
    assert (again.n_accepted, again.n_duplicates) == (0, 60)


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="n_problem"):
        list(SampleReader().read(SourceConfig(name="s", reader="sample", options={"n_problem": 5})))
    with pytest.raises(ConfigError, match="error_rate"):
        list(SampleReader().read(SourceConfig(name="s", reader="sample", options={"error_rate": 2})))
