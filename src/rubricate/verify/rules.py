"""The rule-based verdict for one response: extract its final answer, compare it with the gold answer.

A verdict is data, never an exception: 'correct', 'incorrect', 'no_answer' (nothing that looks like a
final answer) or 'error' (no gold answer, math-verify timed out, an input the comparison could not handle),
each with the reason. A bug of rubricate's own (rubricate.errors.is_internal_error) is an 'error' verdict too,
so nothing is lost or stuck, but it carries its traceback in `internal_error` and the stage logs and counts it
apart: it is not the response's fault. Only 'incorrect' and 'no_answer' verdicts go on to the LLM verifier (false-negative recovery).
"""

from __future__ import annotations

import logging
import re
import time
import traceback
from dataclasses import dataclass
from typing import Literal

from rubricate.errors import is_internal_error
from rubricate.verify.answer_nodes import Comparison, Seq
from rubricate.verify.compare import answers_equivalent
from rubricate.verify.extract import Extraction, extract_final_answer, find_boxed, strip_math_delimiters
from rubricate.verify.math_verify_fallback import MathVerifyTimeout
from rubricate.verify.normalize import repair_escapes
from rubricate.verify.parse_answer import parse_answer

__all__ = ["VERIFIER_ID", "RuleVerdict", "Verdict", "gold_answer_text", "verify_response"]

# Bump when a change in extract.py / compare.py (or the modules behind it) can change a verdict: stored
# verdicts carry this id, and the stage re-verifies every trace that has no verdict for the current id.
VERIFIER_ID = "rules-v3"  # v3: sums, products, indexed sequences and function letters in the identity test

Verdict = Literal["correct", "incorrect", "no_answer", "error"]
log = logging.getLogger(__name__)

# A gold field counts as a worked solution (whose final answer is taken like a response's) when it has an
# answer phrase, or is longer than this with paragraphs or several sentences.
_GOLD_SOLUTION_CHARS = 200
_ANSWER_WORDS = re.compile(r"final answer|the answer is", re.IGNORECASE)
_SENTENCE = re.compile(r"[a-z)\]$.][.!?]\s+[A-Z]")
_MAX_ANSWER_CHARS = 2000


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    extracted_answer: str | None
    verdict: Verdict
    reason: str
    elapsed_ms: float
    internal_error: str | None = None  # the traceback, when the 'error' is a rubricate bug (never stored: logged)


def gold_answer_text(gold: str) -> str:
    """The answer part of a gold field: the boxed part if there is one, the final answer of a worked
    solution, else the field itself."""
    g = repair_escapes(gold).strip()
    boxed = find_boxed(g)
    if boxed is not None:
        return boxed
    if _looks_like_solution(g):
        found = extract_final_answer(g).answer
        if found:
            return found
    return strip_math_delimiters(g) if g.count("$") >= 2 else g


def _looks_like_solution(g: str) -> bool:
    """A worked solution (sentences, paragraphs, an answer phrase), not a long answer (a list of options)."""
    if _ANSWER_WORDS.search(g):
        return True
    return len(g) > _GOLD_SOLUTION_CHARS and ("\n\n" in g or len(_SENTENCE.findall(g)) >= 3)


def _several_items(gold_text: str) -> bool:
    node = parse_answer(gold_text)
    return isinstance(node, Seq) and node.kind in ("list", "set", "tuple") and len(node.items) > 1


def _with_alternatives(
    gold_text: str, answer: str, extraction: Extraction, cmp: Comparison, mv_timeout_s: int | None | str
) -> tuple[str, Verdict, str]:
    """(extracted answer, verdict, reason) when the response offers other answers beside its final one.

    Several boxes that state different answers are a hedge ("\\boxed{4}. Hmm, maybe \\boxed{5}"), never
    correct whichever one matches; boxes that repeat the answer in another form are not. When the gold is
    a list and the boxes together state it (one box per part or per solution), that is the answer. A hedge
    keeps every answer offered as its extracted answer ("4 or 5"), so that the LLM half, which sees only the
    problem, the gold and the extracted answer, judges what the response really said."""
    differing = [o for o in extraction.alternatives if not answers_equivalent(answer, o, use_math_verify=False).equal]
    if not differing:
        return answer, ("correct" if cmp.equal else "incorrect"), f"{extraction.method}; {cmp.reason} (earlier boxes agree)"
    offered = " or ".join([*differing, answer])
    if not cmp.equal:
        parts = ", ".join([*differing, answer])
        together = answers_equivalent(gold_text, parts, mv_timeout_s=mv_timeout_s)
        if together.equal and _several_items(gold_text):
            return parts, "correct", f"boxed parts; {together.reason}"
        return offered, "incorrect", f"{extraction.method}; {cmp.reason} (it also offers {'; '.join(o[:40] for o in differing[:3])})"
    shown = "; ".join(o[:40] for o in differing[:3])
    return offered, "incorrect", (
        f"{extraction.method}; hedged: the response boxes several different final answers (last {answer[:40]!r} "
        f"matches the gold, but it also boxes {shown}); a hedge is not a correct answer"
    )


def verify_response(gold: str | None, response: str, *, mv_timeout_s: int | None | str = "auto") -> RuleVerdict:
    """Verdict for one response against its gold answer (never raises)."""
    t0 = time.perf_counter()

    def done(answer: str | None, verdict: Verdict, reason: str, internal_error: str | None = None) -> RuleVerdict:
        return RuleVerdict(answer, verdict, reason, round((time.perf_counter() - t0) * 1000, 3), internal_error)

    answer: str | None = None
    try:
        extraction = extract_final_answer(response or "")
        answer = extraction.answer
        if answer is not None and len(answer) > _MAX_ANSWER_CHARS:
            answer = answer[:_MAX_ANSWER_CHARS]
        if gold is None or not gold.strip():
            return done(answer, "error", "no gold answer to compare with")
        if not answer or not answer.strip():
            return done(None, "no_answer", "no final answer found in the response")
        gold_text = gold_answer_text(gold)
        if answer.strip() == gold.strip():
            cmp = Comparison(True, "identical")
        else:
            cmp = answers_equivalent(gold_text, answer, mv_timeout_s=mv_timeout_s)
        if extraction.alternatives:
            return done(*_with_alternatives(gold_text, answer, extraction, cmp, mv_timeout_s))
        verdict: Verdict = "correct" if cmp.equal else "incorrect"
        return done(answer, verdict, f"{extraction.method}; {cmp.reason}")
    except MathVerifyTimeout as exc:
        return done(answer, "error", str(exc))
    except RecursionError:
        return done(answer, "error", "answer too deeply nested to compare")
    except Exception as exc:
        if is_internal_error(exc):
            trace = "".join(traceback.format_exception(exc))
            log.error("rule verifier bug (verdict stored as error, please report it):\n%s", trace)
            return done(answer, "error", f"internal error (a rubricate bug): {type(exc).__name__}: {exc}"[:500], trace)
        return done(answer, "error", f"{type(exc).__name__}: {exc}"[:500])  # a response it cannot handle is data
