INSERT OR REPLACE INTO pipeline_runs (run_id, flow, config_hash, mlflow_run_id, started_at, finished_at, status, summary)
VALUES ($run_id, $flow, $config_hash, $mlflow_run_id, $started_at, $finished_at, $status, $summary)
