"""The `sample` reader: the demo's own generated set (rubricate.demo), its `options:` checked like any reader's.

With `options: {problems_only: true}` the same options give a problem set instead of traces: the problems the
traces pose (same text, multiple choice included, same gold answer, split and domain), one row each, for
collect_traces to sample responses from. The demo config (configs/demo.yaml) has both.
"""

from __future__ import annotations

from typing import Iterator

from rubricate.config import SourceConfig
from rubricate.demo import SampleOptions, generate
from rubricate.errors import IngestError
from rubricate.ingest.problems import ProblemDraft
from rubricate.ingest.readers._common import parse_options
from rubricate.ingest.records import ReadResult


class SampleReader:
    dataset = "sample"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        opts = parse_options(source, SampleOptions)
        if opts.problems_only:
            raise IngestError(f"source '{source.name}' is a problem set (problems_only: true): it holds no responses to store as traces; "
                              "ingest it with rubricate.ingest.problems.ingest_problem_set (the pipeline and collect_traces do)")
        yield from generate(opts)

    def read_problems(self, source: SourceConfig) -> Iterator[ProblemDraft]:
        """One row per generated problem: what its first trace poses (the traces of one problem share it)."""
        opts = parse_options(source, SampleOptions).model_copy(update={"problems_only": False})
        for trace in generate(opts):
            if trace.extra["sample_index"] != 0:
                continue
            index = trace.extra["problem_index"]
            yield ProblemDraft(
                line=index + 1,
                problem=trace.problem,
                gold_answer=trace.gold_answer,
                source_id=f"sample-s{opts.seed}-p{index:04d}",
                split=trace.split,
                domain=trace.domain,
                extra={"template": trace.extra["template"], "problem_index": index, "multiple_choice": trace.extra["multiple_choice"]},
            )
