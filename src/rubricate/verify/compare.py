"""Is a predicted final answer equivalent to the gold answer? Cheap rules first, math-verify last.

The cheap path turns each side into a small structure (number, choice letter, text, tuple / interval /
set / list, matrix, relation, or an expression) and decides when it safely can:

* Numbers are read exactly (``Fraction``) from integers, decimals, fractions, ``\\frac``, mixed numbers
  (``2\\frac{1}{2}`` = 5/2), scientific notation, ``\\binom``, ``n!`` and closed forms (``\\sqrt``,
  ``\\pi``, ``e``, ``\\sin``, ``\\ln``, ...). Two exact values (no decimal point, no float involved) must be
  equal exactly (``3^{13} - 3`` is not ``3^{13} - 4``); otherwise within a relative 1e-6 (1/3 == 0.3333333).
* Thousands separators (``7,425,000``, ``1 000``, ``14{,}916``, ``11,\\!111``) are removed; a comma with
  a space after it separates list items; ``1,22`` against a single number is read as a decimal comma.
* Units are stripped when both sides share them, when gold has none, or when the answer leaves out
  the gold's unit (problems state the unit; "15" for "15 cm^2" is the usual answer format). Different
  units on both sides ("2 m" vs "200 cm") are *not* converted: that is "incorrect" here, for the LLM
  verifier to look at. Degrees given without a unit may also match as radians (``90^\\circ`` == ``\\pi/2``).
* Percent: gold ``28%`` accepts ``28%``, ``28`` (the sign left out) and ``0.28`` (the same quantity as a
  fraction). Gold ``0.28`` accepts ``28%``. Gold ``28`` accepts ``28%`` only when the number is above 1:
  for gold ``0.5`` the answer ``0.5%`` is a different quantity if gold was a probability, so it is rejected.
* Text answers compare case-, article- and punctuation-insensitively (``\\text{Evelyn}`` == ``evelyn``).
* Choice letters compare by letter (``(B)``, ``\\text{(B)}``, ``B) 12``, ``Option B``); when both sides
  also quote the option's text and the texts differ ("C: 5" vs "C: 6"), they are not equal.
* Tuples and intervals are ordered (and brackets matter for intervals); sets, bare lists of solutions
  and unions of intervals are order-insensitive. ``x = 3``, ``(p, q) = (3, 2)`` and ``x \\in [0, 1)`` compare
  by their right-hand side; inequalities like ``-2 <= x < 7`` compare as intervals; ``\\pm`` expands.
* Expressions with variables are compared by a randomised identity test: both are evaluated at the same
  random points (fixed seed; integer values for n, m, k; exact arithmetic where possible). Equal at
  every point: equal; clearly different at one: different. Equations also match when one is a constant
  multiple of the other; relations with all sides but one equal are different.

Whatever the cheap path cannot decide goes to math-verify (unless an answer holds a power or factorial too
large to compute, 9^{9^{9}} or ((10!)!)!, which sympy would evaluate exactly and never return from) (``verify(gold, pred)``, gold first: it is not
symmetric), with a guard: math-verify can compare a fragment it parsed ("20 workers, 40 workers" vs
"20 workers, 41 workers"), so an "equivalent" for two answers written alike except for different
numbers is overruled. Parsed gold answers are cached (many traces share one gold). math-verify's own
timeouts use SIGALRM, which only works on a main thread: elsewhere it runs without them, and the
caller (the worker pool) enforces the hard limit.

The pieces: normalize.py (the string), parse_answer.py (its structure, answer_nodes.py), arithmetic.py
(exact / real values), compare_nodes.py and numeric_identity.py (the cheap path), math_verify_fallback.py.
"""

from __future__ import annotations

from rubricate.verify.answer_nodes import Comparison
from rubricate.verify.arithmetic import too_large_to_compute
from rubricate.verify.compare_nodes import cmp
from rubricate.verify.entity import same_entity
from rubricate.verify.math_verify_fallback import MathVerifyTimeout, math_verify_equivalent, mv_timeout
from rubricate.verify.normalize import normalize_answer
from rubricate.verify.parse_answer import parse_answer

__all__ = ["Comparison", "MathVerifyTimeout", "answers_equivalent", "normalize_answer"]


def answers_equivalent(gold: str, pred: str, *, mv_timeout_s: int | None | str = "auto", use_math_verify: bool = True) -> Comparison:
    """Whether `pred` states the same answer as `gold`.

    mv_timeout_s: math-verify's own (SIGALRM) limit in seconds; "auto" = 5 s on the main thread.
    Off the main thread it is always None. Raises MathVerifyTimeout when math-verify hits that limit.
    """
    if gold.strip() == pred.strip() and gold.strip():
        return Comparison(True, "identical")
    ng, np_ = normalize_answer(gold), normalize_answer(pred)
    if ng == np_ and ng:
        return Comparison(True, "identical after normalisation")
    if not np_:
        return Comparison(False, "empty answer")
    entity = same_entity(ng, np_)
    if entity:
        return Comparison(True, f"same entity: {entity}")
    eq, why = cmp(parse_answer(gold), parse_answer(pred))
    if eq is not None:
        return Comparison(eq, why)
    if not use_math_verify:
        return Comparison(False, f"undecided by rules ({why})")
    huge = too_large_to_compute(gold) or too_large_to_compute(pred)
    if huge:  # sympy would compute it exactly and never return: left to the LLM half, not to math-verify
        return Comparison(False, f"undecided by rules ({why}); not sent to math-verify: {huge}")
    return math_verify_equivalent(gold, pred, mv_timeout(mv_timeout_s))
