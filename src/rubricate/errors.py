"""Typed errors. Each message names the cause and the fix; none should surface as a bare traceback."""


class RubricateError(Exception):
    """Base class for errors a user can act on."""


class ConfigError(RubricateError):
    """A config file is missing, unreadable or invalid."""


class StoreError(RubricateError):
    """The DuckDB store is unusable (locked, wrong schema, missing query file)."""


class IngestError(RubricateError):
    """A whole input cannot be read (missing file, unknown format). Bad rows are data, not errors."""
