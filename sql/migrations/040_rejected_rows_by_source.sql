-- rejected_rows is keyed by the source too: two sources reading the same file each keep their own rejections
-- (keyed by (path, line, reason) alone, the second source's rows were ignored while its report counted them).
-- Rows stored before this migration get their source from ingest_runs, '(unknown)' when the run left no record.
-- Idempotent: every statement can run again on an existing database (the table is rebuilt from itself).

ALTER TABLE rejected_rows ADD COLUMN IF NOT EXISTS source_name VARCHAR;

CREATE TABLE IF NOT EXISTS rejected_rows_by_source (
    source_name   VARCHAR NOT NULL,   -- the configured source that rejected the row
    source_path   VARCHAR NOT NULL,
    source_line   INTEGER NOT NULL,   -- 1-based; 0 = the whole file (an unreadable file)
    reason        VARCHAR NOT NULL,   -- short code: malformed_json, missing_field, not_utf8, empty_response, too_large,
                                      -- duplicate, bad_value, unreadable_file
    detail        VARCHAR,            -- human-readable explanation
    raw_excerpt   VARCHAR,            -- first 500 characters of the raw row
    ingest_run_id VARCHAR NOT NULL,
    rejected_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (source_name, source_path, source_line, reason)
);

-- A plain INSERT (the old key (path, line, reason) is part of the new one, so no row can repeat); INSERT OR IGNORE
-- would need the key, and a lake has none.
INSERT INTO rejected_rows_by_source
SELECT
    coalesce(r.source_name, (SELECT any_value(i.source_name) FROM ingest_runs i WHERE i.ingest_run_id = r.ingest_run_id), '(unknown)'),
    r.source_path, r.source_line, r.reason, r.detail, r.raw_excerpt, r.ingest_run_id, r.rejected_at
FROM rejected_rows r;

DROP TABLE rejected_rows;

ALTER TABLE rejected_rows_by_source RENAME TO rejected_rows;
