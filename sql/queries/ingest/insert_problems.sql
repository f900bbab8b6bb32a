-- New problem-set rows (the caller has already removed known keys; the anti-join guards against a concurrent writer
-- and a key given twice keeps one row). MERGE, not INSERT OR IGNORE: DuckLake has no keys to conflict on.
MERGE INTO problems
USING (
    SELECT * REPLACE (CAST(prompt AS JSON) AS prompt, CAST(extra AS JSON) AS extra) FROM incoming
    QUALIFY row_number() OVER (PARTITION BY problem_key) = 1
) AS new
ON problems.problem_key = new.problem_key
WHEN NOT MATCHED THEN INSERT BY NAME
