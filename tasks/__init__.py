"""Thin Prefect @task wrappers, one module per stage; each calls one plain function of rubricate."""
