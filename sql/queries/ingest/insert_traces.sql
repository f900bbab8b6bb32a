-- New traces (the caller has already removed known ids; the anti-join guards against a concurrent writer and an id
-- given twice keeps one row). MERGE, not INSERT OR IGNORE: DuckLake has no keys to conflict on.
MERGE INTO traces
USING (
    SELECT * REPLACE (CAST(extra AS JSON) AS extra) FROM incoming
    QUALIFY row_number() OVER (PARTITION BY trace_id) = 1
) AS new
ON traces.trace_id = new.trace_id
WHEN NOT MATCHED THEN INSERT BY NAME
