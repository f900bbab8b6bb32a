"""The demo's own data set, generated: rubricate.demo.generator (the `sample` reader)."""
