-- DuckDB's current memory cap (the export lowers it so that its ordered scan spills instead of growing).
SELECT current_setting('memory_limit')
