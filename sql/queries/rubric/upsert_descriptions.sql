-- New descriptions, and retried ones replacing their failed attempt.
INSERT OR REPLACE INTO error_descriptions BY NAME SELECT * FROM incoming
