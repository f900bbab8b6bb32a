"""Working a problem through its steps, with at most one injected error that propagates like a real slip.

`possible_faults` lists the errors a problem admits (from its steps' `faults`), `solve` writes the solution
lines with one of them (or none), and says where the error first shows and how it is described.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from rubricate.demo.numbers import fmt, misread_value, slip_value
from rubricate.demo.templates import ERROR_TYPES, ErrorType, Problem, Step, demo_data

SLIP, WRONG_OP, DROP, UNITS, SIGN, MISREAD, OFF1, MISMATCH = ERROR_TYPES


def apply(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b  # ZeroDivisionError: the caller drops a fault that divides by zero
    if op == "pct":
        return a * b / 100
    if op == "addpct":
        return a * (1 + b / 100)
    if op == "ofpct":
        return a / b * 100
    if op == "incl":
        return b - a + 1
    if op == "succ":
        return a + 1
    raise ValueError(op)


SYMBOL = {"+": "+", "-": "-", "*": "×", "/": "÷"}
SWAP = {"+": "-", "-": "+", "*": "/", "/": "*"}


@dataclass
class Fault:
    kind: ErrorType
    step: int | None = None  # index into Problem.steps
    given: str | None = None  # misread_quantity target
    silent: bool = False  # arithmetic_slip whose wrong value is not carried on


@dataclass
class Worked:
    lines: list[str]
    value: float  # the result the work arrives at
    error_at: int | None = None
    description: str | None = None
    fired: bool = False


def _operand(x: str | float | None, env: dict[str, float]) -> float:
    if x is None:
        return 0.0
    return env[x] if isinstance(x, str) else float(x)


def _consumers(problem: Problem, name: str) -> list[int]:
    return [i for i, st in enumerate(problem.steps) if name in (st.a, st.b)]


def solve(problem: Problem, fault: Fault | None, rng: random.Random, intro: str | None) -> Worked:
    env: dict[str, float] = dict(problem.givens)
    lines: list[str] = [intro] if intro else []
    work = Worked(lines, 0.0)
    vary = rng.random()  # one phrasing choice per trace, so a trace reads consistently

    def show(name: str | float | None, value: float) -> str:
        return fmt(value, money=isinstance(name, str) and name in problem.money)

    descriptions = demo_data().descriptions

    def describe(key: str, **slots: object) -> str:
        return rng.choice(descriptions[key]).format(**slots)

    for i, st in enumerate(problem.steps):
        strike = fault.kind if fault is not None and fault.step == i else None  # the fault that hits this step
        if fault is not None and fault.kind == MISREAD and fault.given and not work.fired and fault.given in {st.a, st.b, *st.uses}:
            right = env[fault.given]
            env[fault.given] = misread_value(right, rng)  # from its first use on, the wrong number is carried along
            work.error_at, work.fired = len(lines), True
            work.description = describe(MISREAD, wrong=fmt(env[fault.given]), right=fmt(right), noun=problem.given_nouns[fault.given])
        if st.op == "note":
            ctx = problem.ctx | {k: fmt(v) for k, v in env.items()}
            lines.append(st.say[int(vary * len(st.say))].format(**ctx))
            continue
        assert st.out is not None
        if strike == DROP:
            env[st.out] = _operand(st.a, env)
            work.error_at, work.fired = len(lines), True  # the next step is the first to use the unadjusted value
            work.description = describe(DROP, drop=st.drop, noun=_consumer_noun(problem, i))
            continue
        a, b = _operand(st.a, env), _operand(st.b, env)
        right = apply(st.op, a, b)
        op: str = st.op  # a wrong operation swaps it (SWAP)
        b_used, says = b, st.say
        if strike in (WRONG_OP, SIGN):
            op = SWAP[op]
        if strike == UNITS and st.conv is not None:
            b_used = st.conv[2]
        r = apply(op, a, b_used)
        if strike == OFF1:
            r, says = r - 1, st.say_off
        shown = r
        if strike == SLIP and fault is not None:
            shown = slip_value(r, rng)
            if not fault.silent:
                r = shown
        ctx = problem.ctx | {k: fmt(v, k in problem.money) for k, v in env.items()} | {
            "A": show(st.a, a), "B": show(st.b, b_used), "R": show(st.out, shown), "OP": SYMBOL.get(op, op), "M": fmt(1 + b_used / 100),
        }
        lines.append(says[int(vary * len(says))].format(**ctx))
        env[st.out] = r
        if strike is not None and fault is not None:
            work.error_at, work.fired = len(lines) - 1, True
            work.description = _describe_step(fault, st, ctx, right, describe)
    work.value = env[problem.answer]
    return work


def _consumer_noun(problem: Problem, i: int) -> str:
    later = [j for j in _consumers(problem, problem.steps[i].out or "") if j > i]
    return problem.steps[later[0]].noun if later else "the final answer"


def _expr(st: Step, ctx: dict[str, str]) -> str:
    if st.op == "incl":
        return f"{ctx['B']} - {ctx['A']} + 1"
    if st.op == "succ":
        return f"{ctx['A']} + 1"
    if st.op == "pct":
        return f"{ctx['B']}% of {ctx['A']}"
    if st.op == "addpct":
        return f"{ctx['A']} × {ctx['M']}"
    if st.op == "ofpct":
        return f"{ctx['A']} ÷ {ctx['B']} × 100"
    return f"{ctx['A']} {ctx['OP']} {ctx['B']}"


def _describe_step(fault: Fault, st: Step, ctx: dict[str, str], right: float, describe: Callable[..., str]) -> str:
    """The description of a fault that struck step `st`; `right` is the value the step should have produced."""
    if fault.kind == SLIP:
        return describe("slip_silent" if fault.silent else "slip", expr=_expr(st, ctx), wrong=ctx["R"], right=fmt(right), noun=st.noun)
    if fault.kind == WRONG_OP:
        return describe(f"{st.op}>{SWAP[st.op]}", b_noun=st.b_noun, noun=st.noun)
    if fault.kind == SIGN:
        return describe(SIGN, b_noun=st.b_noun, B=ctx["B"])
    if fault.kind == UNITS:
        assert st.conv is not None and isinstance(st.b, float)
        large, small, wrong_f = st.conv
        return describe(UNITS, large=large, small=small, wrong_f=fmt(wrong_f), f=fmt(st.b))
    if fault.kind == OFF1:
        return describe(st.op, A=ctx["A"], B=ctx["B"], wrong=ctx["R"], right=fmt(right))
    raise ValueError(fault.kind)


def possible_faults(problem: Problem) -> dict[ErrorType, list[Fault]]:
    """Every (type -> faults) that can strike this problem."""
    found: dict[ErrorType, list[Fault]] = {t: [] for t in ERROR_TYPES}
    for i, st in enumerate(problem.steps):
        for kind in st.faults:
            if kind == MISREAD:
                continue
            if kind == SLIP:
                found[SLIP].append(Fault(SLIP, i))
                if st.out and any(j > i for j in _consumers(problem, st.out)):
                    found[SLIP].append(Fault(SLIP, i, silent=True))
            else:
                found[kind].append(Fault(kind, i))
        for name in (st.a, st.b, *st.uses):
            if isinstance(name, str) and name in problem.given_nouns and MISREAD in st.faults | ({MISREAD} if st.op == "note" else set()):
                found[MISREAD].append(Fault(MISREAD, given=name))
    found[MISMATCH].append(Fault(MISMATCH))
    return {k: v for k, v in found.items() if v}

