"""Rubric mining: describe errors, embed, cluster, name, version. `rubric.model` is the shared contract."""
