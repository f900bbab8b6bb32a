"""Typed errors. Each message names the cause and the fix; none should surface as a bare traceback."""


class RubricateError(Exception):
    """Base class for errors a user can act on."""


class ConfigError(RubricateError):
    """A config file is missing, unreadable or invalid."""


class StoreError(RubricateError):
    """The DuckDB store is unusable (locked, wrong schema, missing query file)."""


class IngestError(RubricateError):
    """A whole input cannot be read (missing file, unknown format). Bad rows are data, not errors."""


# The exception types that, raised by rubricate's own code, mean the code is wrong rather than the input odd.
# Stages that turn a bad input into data (a verdict, a rejected row) must not turn these into data too: they
# log the traceback and count them apart (see is_internal_error).
_BUG_TYPES = (AttributeError, KeyError, IndexError, NameError, TypeError, AssertionError, ImportError)


def is_internal_error(exc: BaseException) -> bool:
    """True when `exc` is a bug of rubricate's: one of the bug types, raised in a frame of the rubricate package.
    A ValueError from a parser, sympy's errors, or a TypeError inside sympy are reactions to the input instead."""
    import rubricate

    if not isinstance(exc, _BUG_TYPES):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    package = rubricate.__path__[0]
    return tb is not None and tb.tb_frame.f_code.co_filename.startswith(package)
