"""rubricate: turn reasoning traces into rewards.

The package is Prefect-free; heavy libraries (mlflow, sentence-transformers, litellm, math-verify)
are imported lazily inside the one module that needs each, so `import rubricate` stays fast.
"""

__version__ = "0.1.0"
