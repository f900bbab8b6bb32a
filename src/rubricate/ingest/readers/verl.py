"""verl-format Parquet: RL training sets (problems) and dumped rollouts (problems with responses).

A verl row has `prompt` (a list of chat messages), `reward_model.ground_truth`, `data_source`, `ability`
and `extra_info`. Mapping: problem = the content of the last user message; gold_answer =
`reward_model.ground_truth`; split = `data_source`; domain = `ability`; source_id = `extra_info.index`
(else the row number). Other columns stay in extra (`extra_info.question`, a copy of the prompt, is dropped).

Two kinds of file, decided by the config, not guessed:

- Rollout dumps (the default): the file has a `responses` column (a list of k sampled strings; one trace per
  element) or a `response` column (one string); `options: {response_field: NAME}` names another column.
  A trace from element k of a list has source_path `<file>#responses[k]`, so each response (and each
  rejection) has its own location; its extra has `response_index`.
  A file without a response column is refused with an IngestError that says to set `problems_only`.
- Problem sets (`options: {problems_only: true}`, e.g. big_math_5k): there is nothing to judge yet, so the
  rows are not traces. `rubricate.ingest.problems.ingest_problem_set` stores them in the `problems` table
  (migration 002) through `read_problems`, keeping the chat messages as given in `prompt`; collect_traces
  samples responses for them later. `ingest_source` on such a source raises an IngestError pointing there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from rubricate.config import SourceConfig, Strict
from rubricate.errors import IngestError
from rubricate.ingest.problems import ProblemDraft
from rubricate.ingest.readers._common import RowError, map_rows, parse_options, reject, text_or_none
from rubricate.ingest.readers.generic import input_files
from rubricate.ingest.records import ReadResult, Rejection, TraceDraft

RESPONSE_COLUMNS = ("responses", "response")
_MAPPED = {"prompt", "reward_model", "data_source", "ability"}


class VerlOptions(Strict):
    problems_only: bool = False
    response_field: str | None = None  # default: `responses`, else `response`


def _message_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multi-part content: keep the text parts
        texts = [t for p in content if isinstance(p, dict) and isinstance(t := p.get("text"), str)]
        return "\n".join(texts) if texts else None
    return None


def parse_problem(row: dict[str, Any], line: int) -> ProblemDraft:
    """The problem side of a verl row (shared by traces and problem sets)."""
    prompt = row.get("prompt")
    messages: list[dict[str, Any]] | None = None
    if isinstance(prompt, str):
        problem = prompt
    elif isinstance(prompt, list) and prompt:
        if not all(isinstance(m, dict) for m in prompt):
            raise RowError("bad_value", "'prompt' must be a list of chat messages ({role, content})")
        messages = prompt
        users = [m for m in prompt if m.get("role") == "user"]
        problem = _message_text((users or prompt)[-1].get("content")) or ""
    elif prompt is None or (isinstance(prompt, list) and not prompt):
        raise RowError("missing_field", "required field 'prompt' (problem) is missing or empty")
    else:
        raise RowError("bad_value", f"'prompt' must be chat messages or a string, got {type(prompt).__name__}")
    reward = row.get("reward_model")
    gold = text_or_none(reward.get("ground_truth")) if isinstance(reward, dict) else None
    extra_info = row.get("extra_info")
    info: dict[str, Any] = extra_info if isinstance(extra_info, dict) else {}
    index = info.get("index")
    extra = {k: v for k, v in row.items() if k not in _MAPPED and not isinstance(v, (bytes, bytearray))}
    if info:
        extra["extra_info"] = {k: v for k, v in info.items() if k != "question"}
    if isinstance(reward, dict) and reward.get("style") is not None:
        extra["reward_style"] = reward["style"]
    return ProblemDraft(
        line=line,
        problem=problem,
        prompt=messages,
        gold_answer=gold,
        source_id=str(index) if index is not None else str(line),
        split=text_or_none(row.get("data_source")),
        domain=text_or_none(row.get("ability")),
        extra=extra,
    )


def _open(file: Path, source: SourceConfig) -> Any:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(file)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise IngestError(f"source '{source.name}': {file} is not a readable Parquet file: {exc}") from exc
    if "prompt" not in pf.schema_arrow.names:
        raise IngestError(f"source '{source.name}': {file} has no `prompt` column, so it is not verl format; "
                          "use the `parquet` reader with a `fields` mapping")
    return pf


def _rows(pf: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    line = 0
    for batch in pf.iter_batches(batch_size=2048):
        for row in batch.to_pylist():
            line += 1
            yield line, row


def _response_column(pf: Any, file: Path, source: SourceConfig, opts: VerlOptions) -> str:
    names = pf.schema_arrow.names
    if opts.response_field:
        if opts.response_field not in names:
            raise IngestError(f"source '{source.name}': {file} has no column '{opts.response_field}' (options.response_field); columns: {', '.join(names)}")
        return opts.response_field
    for name in RESPONSE_COLUMNS:
        if name in names:
            return name
    raise IngestError(
        f"source '{source.name}': {file} has no `responses`/`response` column, so it is a problem set, not traces. "
        "Set `options: {problems_only: true}` on the source to store its problems for collect_traces to sample from, "
        "or `options: {response_field: NAME}` if the responses are in another column."
    )


class VerlReader:
    dataset = "verl"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        opts = parse_options(source, VerlOptions)
        if opts.problems_only:
            raise IngestError(f"source '{source.name}' is a problem set (problems_only: true): it holds no responses to store as traces; "
                              "ingest it with rubricate.ingest.problems.ingest_problem_set")
        for file in input_files(source, (".parquet",)):
            pf = _open(file, source)
            column = _response_column(pf, file, source, opts)
            for line, row in _rows(pf):
                yield from self._traces(row, line, file, column)

    def read_problems(self, source: SourceConfig) -> Iterator[ProblemDraft | Rejection]:
        parse_options(source, VerlOptions)  # unknown or mistyped options are config errors here too
        for file in input_files(source, (".parquet",)):
            yield from map_rows(_rows(_open(file, source)), file, parse_problem)

    def _traces(self, row: dict[str, Any], line: int, file: Path, column: str) -> Iterator[ReadResult]:
        try:
            problem = parse_problem(row, line)
        except RowError as exc:
            yield reject(line, exc, row, file)
            return
        value = row.get(column)
        if value is None:
            yield reject(line, RowError("missing_field", f"required field '{column}' (response) is missing"), row, file)
            return
        many = isinstance(value, list)
        responses = value if many else [value]
        if many and not responses:
            yield reject(line, RowError("empty_response", f"'{column}' is an empty list"), row, file)
            return
        extra = {k: v for k, v in problem.extra.items() if k != column}
        for k, response in enumerate(responses):
            path = f"{file}#{column}[{k}]" if many else str(file)
            if response is None:
                yield reject(line, RowError("empty_response", f"'{column}' element {k} is null"), row, Path(path))
                continue
            if not isinstance(response, str):
                yield reject(line, RowError("bad_value", f"'{column}' must hold strings, element {k} is {type(response).__name__}"), row, Path(path))
                continue
            yield TraceDraft(
                line=line,
                problem=problem.problem,
                response=response,
                gold_answer=problem.gold_answer,
                source_id=f"{problem.source_id}#{k}" if many else problem.source_id,
                split=problem.split,
                domain=problem.domain,
                model=text_or_none(row.get("model")) if isinstance(row.get("model"), str) else None,
                extra=extra | ({"response_index": k} if many else {}),
                source_path=path,
            )
