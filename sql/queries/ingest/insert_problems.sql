-- New problem-set rows (the caller has already removed known keys; OR IGNORE guards against a concurrent writer).
INSERT OR IGNORE INTO problems BY NAME
SELECT * REPLACE (CAST(prompt AS JSON) AS prompt, CAST(extra AS JSON) AS extra) FROM incoming
