"""math-verify, the slow path: what the rules leave undecided. math-verify (and sympy under it) is
imported on first use, never when this module is imported.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from fractions import Fraction
from functools import lru_cache

from rubricate.errors import is_internal_error
from rubricate.verify.answer_nodes import Comparison
from rubricate.verify.normalize import normalize_answer

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_MV_TIMEOUT_S", "MathVerifyTimeout", "math_verify_equivalent", "mv_timeout"]

DEFAULT_MV_TIMEOUT_S = 5


class MathVerifyTimeout(Exception):
    """math-verify hit its own time limit: the verdict is an error, not 'incorrect'."""


def mv_timeout(requested: int | None | str) -> int | None:
    if threading.current_thread() is not threading.main_thread():
        return None  # SIGALRM only works on the main thread; the pool enforces the hard limit
    if requested == "auto":
        return DEFAULT_MV_TIMEOUT_S
    return None if requested is None else max(1, math.ceil(float(requested)))


def _mv_text(s: str) -> str:
    s = re.sub(r"(?<!\\)\\\\(?=[A-Za-z])", r"\\", s.strip())
    if "$" in s or "\\(" in s or "\\[" in s or "\\boxed" in s:
        return s
    return f"${s}$"


@lru_cache(maxsize=8192)
def _mv_parse_gold(text: str, timeout: int | None) -> tuple:
    return tuple(_mv_parse(text, timeout))


class _QuietTimeoutWarning(logging.Filter):
    """math-verify warns once per process that its timeout is off; here that is by design (see above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Timeout is disabled")


@lru_cache(maxsize=1)
def _quiet_math_verify() -> None:
    for name in ("math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).addFilter(_QuietTimeoutWarning())


def _mv_parse(text: str, timeout: int | None) -> list:
    from math_verify import parse

    _quiet_math_verify()
    from math_verify.errors import TimeoutException

    try:
        return parse(text, parsing_timeout=timeout, raise_on_error=True)
    except TimeoutException:
        raise MathVerifyTimeout(f"math-verify parse timed out after {timeout}s") from None
    except Exception as exc:  # math-verify (sympy, antlr) failing on an odd answer: no parse, said in the reason
        log.debug("math-verify could not parse %r: %s: %s", text[:200], type(exc).__name__, exc)
        return []


_NUMBER_IN_TEXT = re.compile(r"\d+(?:\.\d+)?")


def _differs_only_in_numbers(gold: str, pred: str) -> str | None:
    """A guard on math-verify's "equivalent": it can compare a fragment of an answer it only partly
    parsed ("20 workers for tabletops, 40 for legs" vs "..., 41 for legs"). When both answers are
    written the same way except for their numbers, and the numbers differ (not just their order), the
    answers differ."""
    g, p = normalize_answer(gold), normalize_answer(pred)
    if _NUMBER_IN_TEXT.sub("#", g) != _NUMBER_IN_TEXT.sub("#", p):
        return None
    ng, np_ = _NUMBER_IN_TEXT.findall(g), _NUMBER_IN_TEXT.findall(p)
    if sorted(Fraction(x) for x in ng) == sorted(Fraction(x) for x in np_):
        return None
    diff = [(a, b) for a, b in zip(ng, np_) if Fraction(a) != Fraction(b)]
    return f"the answers differ only in numbers ({diff[0][0]} vs {diff[0][1]})" if diff else None


def math_verify_equivalent(gold: str, pred: str, timeout: int | None) -> Comparison:
    from math_verify import verify
    from math_verify.errors import TimeoutException

    g = _mv_parse_gold(_mv_text(gold), timeout)
    p = _mv_parse(_mv_text(pred), timeout)
    if not g or not p:
        return Comparison(False, "math-verify could not parse " + ("the gold answer" if not g else "the answer"), "math-verify")
    failed = ""
    for gi in g:
        for pi in p:
            try:
                if verify(gi, pi, timeout_seconds=timeout, raise_on_error=True):
                    suspicious = _differs_only_in_numbers(gold, pred)
                    if suspicious:
                        return Comparison(False, f"math-verify said equivalent, but {suspicious}", "math-verify")
                    return Comparison(True, "math-verify: equivalent", "math-verify")
            except TimeoutException:
                raise MathVerifyTimeout(f"math-verify verify timed out after {timeout}s") from None
            except Exception as exc:
                if is_internal_error(exc):  # our own guard failed: a bug, not an answer math-verify cannot compare
                    raise
                failed = f"{type(exc).__name__}: {exc}"[:120]
                log.debug("math-verify failed comparing %r with %r: %s", gold[:200], pred[:200], failed)
    if failed:
        return Comparison(False, f"math-verify: not equivalent (a comparison failed: {failed})", "math-verify")
    return Comparison(False, "math-verify: not equivalent", "math-verify")
