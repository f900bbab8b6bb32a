"""The rule check of one online sample against all its gold answers, as run inside a verifier worker process.

`rubricate.verify.pool.VerifyPool` runs `fn(gold, response)` per item with a hard time limit; the online reward
passes all gold answers of a sample as one item (a tuple), so the limit holds per sample, not per gold answer.
Module-level so the pool can send it to its workers by name.
"""

from __future__ import annotations

from typing import Sequence

from rubricate.verify.rules import RuleVerdict, verify_response

__all__ = ["verify_against_golds"]

# When no gold answer matches, the most informative failure is reported: a wrong answer beats no answer
# beats an error (an error on one gold answer says nothing when another gold answer was compared cleanly).
_FAILURE_ORDER = ("incorrect", "no_answer", "error")


def verify_against_golds(golds: Sequence[str], response: str, *, mv_timeout_s: int | None | str = "auto") -> RuleVerdict:
    """'correct' if the response matches any of `golds` (never raises; no gold answers is an 'error')."""
    verdicts = []
    for gold in golds:
        v = verify_response(gold, response, mv_timeout_s=mv_timeout_s)
        if v.verdict == "correct":
            return v
        verdicts.append(v)
    for kind in _FAILURE_ORDER:
        for v in verdicts:
            if v.verdict == kind:
                return v
    return RuleVerdict(None, "error", "no gold answer to compare with", 0.0)
