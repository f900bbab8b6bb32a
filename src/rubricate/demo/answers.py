"""How a trace states its final answer, in the mixed styles real traces use, and the multiple-choice form of a problem.

The styles (\\boxed{}, "The answer is X.", "Answer: X", "#### X", a bare last line; with or without units,
dollar and percent signs) give the answer verifier real work.
"""

from __future__ import annotations

import random

from rubricate.demo.numbers import fmt, same
from rubricate.demo.templates import Problem

ANSWER_STYLES = ("boxed", "answer_is", "answer_colon", "bare", "hashes")
LETTERS = "ABCD"


def answer_text(problem: Problem, value: float, style: str, rng: random.Random, letter: str | None) -> str:
    if letter is not None:
        return f"({letter})" if style == "answer_is" else letter
    num = fmt(value, money=problem.kind == "money")
    if problem.kind == "money":
        return rng.choice([f"${num}", num, f"{num} dollars"]) if style != "boxed" else rng.choice([num, f"\\${num}"])
    if problem.kind == "percent":
        return rng.choice([f"{num}\\%", num]) if style == "boxed" else rng.choice([f"{num}%", f"{num} percent"])
    if problem.unit and style not in ("bare", "hashes") and rng.random() < 0.5:
        return f"{num} {problem.unit}" if style != "boxed" else f"{num} \\text{{ {problem.unit}}}"
    return num


def final_line(style: str, answer: str, rng: random.Random) -> str:
    if style == "boxed":
        return rng.choice([f"The final answer is $\\boxed{{{answer}}}$.", f"Therefore, the answer is \\boxed{{{answer}}}."])
    if style == "answer_is":
        return rng.choice([f"The answer is {answer}.", f"So the answer is {answer}."])
    if style == "answer_colon":
        return f"Answer: {answer}"
    if style == "hashes":
        return f"#### {answer}"
    return answer


def gold_text(problem: Problem, value: float) -> str:
    num = fmt(value)
    return f"{num}%" if problem.kind == "percent" else num


def multiple_choice(problem: Problem, gold: float, claimed: list[float], rng: random.Random) -> tuple[str, dict[float, str]]:
    """The problem with four options (gold, the traces' claimed answers, then near misses) and each value's letter."""
    values = [round(gold, 2)]
    for v in claimed + [gold * 2, gold + 10, gold / 2 if gold else 1, gold + 1, gold - 1]:
        v = round(v, 2)
        if len(values) < 4 and not any(same(v, w) for w in values):
            values.append(v)
    rng.shuffle(values)
    letters = {v: LETTERS[n] for n, v in enumerate(values)}
    suffix = "%" if problem.kind == "percent" else ""
    prefix = "$" if problem.kind == "money" else ""
    listing = "\n".join(f"({LETTERS[n]}) {prefix}{fmt(v, problem.kind == 'money')}{suffix}" for n, v in enumerate(values))
    return f"{problem.text}\nOptions:\n{listing}", letters

