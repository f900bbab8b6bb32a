-- pipeline_runs was never written: runs are tracked in MLflow and in the run leases (rubricate.runs).
DROP TABLE IF EXISTS pipeline_runs;
