-- Rejected input rows; the same bad row rejected again by a re-run is not stored twice.
INSERT OR IGNORE INTO rejected_rows BY NAME SELECT * FROM incoming
