-- Rejected input rows; the same bad row rejected again by a re-run (or by a concurrent writer) is not stored twice.
MERGE INTO rejected_rows
USING (SELECT * FROM incoming QUALIFY row_number() OVER (PARTITION BY source_name, source_path, source_line, reason) = 1) AS new
ON rejected_rows.source_name = new.source_name AND rejected_rows.source_path = new.source_path
   AND rejected_rows.source_line = new.source_line AND rejected_rows.reason = new.reason
WHEN NOT MATCHED THEN INSERT BY NAME
