INSERT INTO ingest_runs
    (ingest_run_id, source_name, reader, source_path, n_in, n_accepted, n_rejected, n_duplicates, config_hash, started_at, finished_at)
VALUES
    ($ingest_run_id, $source_name, $reader, $source_path, $n_in, $n_accepted, $n_rejected, $n_duplicates, $config_hash, $started_at, $finished_at)
