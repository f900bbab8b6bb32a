"""The `sample` reader: the demo's own generated set (rubricate.demo), its `options:` checked like any reader's."""

from __future__ import annotations

from typing import Iterator

from rubricate.config import SourceConfig
from rubricate.demo import SampleOptions, generate
from rubricate.ingest.readers._common import parse_options
from rubricate.ingest.records import ReadResult


class SampleReader:
    dataset = "sample"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        yield from generate(parse_options(source, SampleOptions))
