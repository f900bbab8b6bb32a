-- New traces (the caller has already removed known ids; OR IGNORE guards against a concurrent writer).
INSERT OR IGNORE INTO traces BY NAME
SELECT * REPLACE (CAST(extra AS JSON) AS extra) FROM incoming
