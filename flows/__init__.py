"""Deployable Prefect flows, one per module: wiring only (which tasks, in what order, with what config)."""
