"""The SQL source: a DuckDB query over files whose output columns are named after the fields.

    - name: sibling_labels
      reader: sql
      path: data/my_set.jsonl
      query: |
        SELECT t.question AS problem, t.answer AS response, g.answer AS gold_answer
        FROM read_json_auto({path}) t JOIN read_json_auto({path}) g USING (group_id) WHERE g.kind = 'gold'

Any layout becomes a few lines of config: joins, `unnest`, `CASE`, `read_parquet`, `read_csv`. `{path}` is
replaced by the source's `path` as a quoted SQL string literal (so a path with a quote in it cannot change the
query). The query runs in its own in-memory DuckDB, never against the store. Each row it returns goes through
the same field reading (fieldmap.FieldReader with each column as its own path) and the same validation and
rejected-rows accounting as the file readers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from rubricate.config import MAPPABLE_FIELDS, FieldMap, SourceConfig
from rubricate.errors import IngestError
from rubricate.ingest.fieldmap import FieldReader
from rubricate.ingest.records import ReadResult

if TYPE_CHECKING:
    import duckdb

BATCH_ROWS = 2048


def sql_literal(text: str) -> str:
    """`text` as a DuckDB string literal: single quotes doubled, so the text can never end the literal."""
    return "'" + text.replace("'", "''") + "'"


def render_query(source: SourceConfig) -> str:
    assert source.query is not None
    return source.query.replace("{path}", sql_literal(source.path)) if source.path else source.query


def _fields_for(source: SourceConfig, columns: list[str]) -> FieldMap:
    """The identity field map for the query's columns; IngestError when they cannot make traces."""
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise IngestError(f"source '{source.name}': the query returns columns {dupes} more than once; alias them apart")
    if "problem" not in columns or not ({"response", "steps"} & set(columns)):
        raise IngestError(
            f"source '{source.name}': the query must return a `problem` column and a `response` or `steps` column; "
            f"it returns {columns}. Name the output columns after the fields: {', '.join(MAPPABLE_FIELDS)}"
        )
    return FieldMap.identity(columns)


def _relation(con: "duckdb.DuckDBPyConnection", source: SourceConfig) -> "duckdb.DuckDBPyRelation":
    import duckdb

    try:
        relation = con.sql(render_query(source))
    except duckdb.Error as exc:
        raise IngestError(f"source '{source.name}': the query failed: {exc}") from None
    if relation is None:
        raise IngestError(f"source '{source.name}': the query returns no rows (it must be a SELECT)")
    return relation


def query_fields(source: SourceConfig) -> list[str]:
    """The fields the query's columns map (for the dry run); IngestError when the query cannot make traces."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        columns = list(_relation(con, source).columns)
        _fields_for(source, columns)
        return [f for f in MAPPABLE_FIELDS if f in columns]
    finally:
        con.close()


def query_problem(source: SourceConfig) -> str | None:
    """Why the source's query cannot make traces (syntax, a missing file, missing columns), or None. DuckDB binds
    the query (reading the files' schemas) without running it, so a config check finds these before a flow starts."""
    try:
        query_fields(source)
        return None
    except IngestError as exc:
        return str(exc)


class SqlReader:
    dataset = "sql"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        import duckdb

        con = duckdb.connect(":memory:")
        try:
            result = _relation(con, source)
            mapper = FieldReader(_fields_for(source, list(result.columns)), source)
            where = f"<sql:{source.name}>"
            line = 0
            try:
                # Streamed through execute(): on DuckDB 1.5.5 a relation's to_arrow_reader runs the whole query first.
                for batch in con.execute(render_query(source)).to_arrow_reader(BATCH_ROWS):
                    for row in batch.to_pylist():
                        line += 1
                        item = mapper.map_row(row, line)
                        item.source_path = where
                        yield item
            except duckdb.Error as exc:
                raise IngestError(f"source '{source.name}': the query failed after {line} rows: {exc}") from None
        finally:
            con.close()
