-- bench/pipeline_1m.py peer: DuckDB's own JSON reader, the rollouts file straight into a table.
CREATE TABLE rollouts AS SELECT * FROM read_json($path, format = 'newline_delimited')
