-- Set DuckDB's memory cap for this database instance (a size string such as '1GB').
SET memory_limit = $limit
