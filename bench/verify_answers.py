"""Benchmark: rubricate's rule verifier vs plain math-verify on the same (gold, response) pairs.

    python bench/verify_answers.py [--n-golds 500] [--seed 0] [--show 40]

Data (read from ../shared/data, never copied):
  1. math_verify_tests: Math-Verify's own regression cases (gold, prediction, expected). `expected` is
     Math-Verify's intended behaviour; a few entries are not true equivalence, so a hand-checked
     "truth" column corrects them (listed in TRUTH_OVERRIDES, with the reason).
  2. big_math_5k gold answers: for a sample of golds, a response whose boxed answer is the gold itself
     (self-pair), a rewritten but equivalent form (thousands separators, a/b for \\frac{a}{b}, 0.5 for 50%,
     unit dropped, lower case, ...), and a perturbed form (the last number + 1: not equivalent).

  3. The per-class table of issue 11 (tests/verify/class_cases.py, hand-written): for each class of TinyV's
     false-negative taxonomy, equivalent pairs accepted and wrong near misses accepted (false accepts),
     answers given as `\\boxed{...}`, for both verifiers.

Both verifiers get the same gold string and the same full response text:
  math-verify: verify(parse(gold), parse(response)), single process, main thread, gold parsed every call;
  rubricate:   verify_response(gold, response) in this process (one core), then a 2-worker VerifyPool.
Timings on a shared machine are noisy; the ratios are what to read.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
DATA = (REPO / ".." / "shared" / "data").resolve()

# math_verify_test_cases.jsonl line (0-based) -> (hand-checked truth, why it differs from `expected`)
TRUTH_OVERRIDES = {
    31: (True, "'Answer $ \\n 9 \\n $': the answer is 9; expected 0 is math-verify not reading $ across lines"),
    32: (True, "'Answer \\( \\n 9 \\n \\)': the answer is 9"),
    133: (False, "0.33 for 1/3: equal only at precision=2 (the test's parameter), not at the default"),
    139: (True, "2.6667 for 8/3: the exact value rounded at the 4 decimals the answer states (issue 11's rule)"),
    187: (True, "-2 <= x <= 7 is x in [-2, 7]; expected 0 only with allow_set_relation_comp=False"),
    189: (True, "gold '$<tab>ext{13}$' is \\text{13} with its \\t read as a tab (escape damage): the answer 13 is right"),
    253: (False, "f(x) vs f(y): equal only with strict=False; different by default"),
    263: (False, "1 - 1/e vs 1 + 1/e: different numbers (expected 1 is a math-verify quirk)"),
}


@dataclass
class Pair:
    source: str
    gold: str
    response: str
    expected: bool
    truth: bool
    note: str = ""


# -- data ------------------------------------------------------------------------------------------


def math_verify_pairs() -> list[Pair]:
    path = DATA / "math_verify_tests" / "math_verify_test_cases.jsonl"
    if not path.exists():
        return []
    pairs = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        expected = bool(row["expected"])
        truth, why = TRUTH_OVERRIDES.get(i, (expected, ""))
        pairs.append(Pair("math_verify_tests", row["gold"], row["pred"], expected, truth, f"#{i} {row['test']} {why}".strip()))
    return pairs


_INT = re.compile(r"^-?\d+$")
_DEC = re.compile(r"^-?\d+\.\d+$")
_FRAC = re.compile(r"^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$")
_PCT = re.compile(r"^(\d+(?:\.\d+)?)\s*\\%$")
_UNIT = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(?:\\,|\\ )?\s*\\(?:text|mathrm)\{\s*[A-Za-z/ ]+\}(?:\^\d)?$")
_LAST_NUMBER = re.compile(r"(\d+)(\.\d+)?(?!.*\d)", re.DOTALL)


def rewrite(g: str) -> tuple[str, str] | None:
    """An equivalent way to write gold answer `g`, or None when no safe rewrite applies."""
    s = g.strip()
    if _INT.match(s):
        v = int(s)
        return (f"{v:,}", "thousands separators") if abs(v) >= 1000 else (f"{v}.0", "integer as decimal")
    if _DEC.match(s):
        return s + "0", "trailing zero"
    m = _FRAC.match(s)
    if m:
        return f"{m.group(1)}{m.group(2)}/{m.group(3)}", "a/b for \\frac{a}{b}"
    m = _PCT.match(s)
    if m:
        return m.group(1), "percent sign left out"
    m = _UNIT.match(s)
    if m:
        return m.group(1), "unit left out"
    if "\\dfrac" in s:
        return s.replace("\\dfrac", "\\frac"), "\\frac for \\dfrac"
    if re.fullmatch(r"[A-Za-z][A-Za-z ,.'-]{3,}", s) and s != s.lower():
        return s.lower(), "lower case"
    # a closed numeric form (digits, \frac, \sqrt, \pi, operators): state it as an assignment
    letters = re.sub(r"\\(?:frac|sqrt|pi|cdot|times)", "", s)
    if re.search(r"\d", s) and not re.search(r"[A-Za-z=,<>]", letters) and len(s) < 40:
        return f"x = {s}", "stated as x = ..."
    return None


def perturb(g: str) -> str | None:
    """`g` with the integer part of its last number increased by one (a different answer; changing the
    16th decimal of 53.33333333333333 would not be), or None when it has no digits."""
    m = _LAST_NUMBER.search(g)
    if not m:
        return None
    return g[: m.start()] + str(int(m.group(1)) + 1) + (m.group(2) or "") + g[m.end():]


def respond(answer: str) -> str:
    return (
        "Let me work through this step by step.\n\nFirst I set up the relation and simplify it.\n\n"
        f"Therefore, the final answer is $\\boxed{{{answer}}}$."
    )


def big_math_pairs(n_golds: int, seed: int) -> list[Pair]:
    path = DATA / "big_math_5k" / "bigmath_rl_tinyv_train.parquet"
    if not path.exists():
        return []
    import polars as pl

    golds = [r["ground_truth"] for r in pl.read_parquet(path, columns=["reward_model"])["reward_model"].to_list()]
    golds = [g for g in golds if g and g.strip() and "\\boxed" not in g]
    rng = random.Random(seed)
    sample = rng.sample(golds, min(n_golds, len(golds)))
    pairs = []
    for g in sample:
        pairs.append(Pair("big_math self", g, respond(g), True, True, "identical"))
        rw = rewrite(g)
        if rw is not None and rw[0] != g:
            pairs.append(Pair("big_math rewrite", g, respond(rw[0]), True, True, rw[1]))
        p = perturb(g)
        if p is not None and p != g:
            pairs.append(Pair("big_math perturbed", g, respond(p), False, False, "last number + 1"))
    return pairs


# -- the two verifiers -----------------------------------------------------------------------------


def cold_caches() -> None:
    """Every timed run starts with empty caches (sympy's, math-verify's, rubricate's, and the LaTeX
    grammar's prediction tables): no run profits from the expressions an earlier run already parsed.
    antlr fills its tables (DFA states, one set per grammar class) as it meets new input shapes; left warm,
    whichever verifier runs second parses LaTeX faster (math-verify, second, took 12% less time on Math-Verify's
    cases for it in one pair of runs)."""
    from antlr4.dfa.DFA import DFA
    from antlr4.PredictionContext import PredictionContextCache
    from latex2sympy2_extended.antlr_parser import PSLexer, PSParser
    from math_verify import parser as mv_parser
    from sympy.core.cache import clear_cache

    for grammar in (PSLexer, PSParser):
        grammar.decisionsToDFA = [DFA(state, i) for i, state in enumerate(grammar.atn.decisionToState)]
    PSParser.sharedContextCache = PredictionContextCache()

    from rubricate.verify import arithmetic, math_verify_fallback, parse_answer

    clear_cache()
    for fn in ("parse_latex_cached", "parse_expr_cached"):
        getattr(mv_parser, fn).cache_clear()
    parse_answer.parse_answer.cache_clear()
    math_verify_fallback._mv_parse_gold.cache_clear()
    arithmetic.tokens.cache_clear()


def run_math_verify(pairs: list[Pair], wrap_gold: bool = False) -> tuple[list[bool], float]:
    """wrap_gold: give math-verify the gold as '$gold$' when it has no math delimiters (its latex
    extractor needs them; without, a raw LaTeX gold often does not parse and nothing matches)."""
    from math_verify import parse, verify

    cold_caches()
    out = []
    t0 = time.perf_counter()
    for p in pairs:
        gold = p.gold
        if wrap_gold and not any(d in gold for d in ("$", "\\(", "\\[", "\\boxed")):
            gold = f"${gold}$"
        out.append(bool(verify(parse(gold), parse(p.response))))
    return out, time.perf_counter() - t0


def run_rubricate(pairs: list[Pair]) -> tuple[list[bool], list, float]:
    from rubricate.verify.rules import verify_response

    cold_caches()
    verdicts = []
    t0 = time.perf_counter()
    for p in pairs:
        verdicts.append(verify_response(p.gold, p.response))
    dt = time.perf_counter() - t0
    return [v.verdict == "correct" for v in verdicts], verdicts, dt


def run_pool(pairs: list[Pair], workers: int) -> tuple[list[bool], float, float]:
    """Fresh workers (cold caches), started and warmed on an unrelated pair before the clock starts."""
    from rubricate.verify.pool import VerifyPool

    t_start = time.perf_counter()
    with VerifyPool(workers=workers, timeout_s=5.0, batch_size=16) as pool:
        pool.map([("\\frac{1}{2}", "so \\boxed{0.5}"), ("x+1", "\\boxed{1+x}")] * workers)
        startup = time.perf_counter() - t_start
        t0 = time.perf_counter()
        verdicts = pool.map([(p.gold, p.response) for p in pairs])
        dt = time.perf_counter() - t0
    return [v.verdict == "correct" for v in verdicts], dt, startup


# -- report ----------------------------------------------------------------------------------------


def scores(accepted: list[bool], pairs: list[Pair]) -> dict[str, float]:
    pos = [p.truth for p in pairs]
    exp = [p.expected for p in pairs]
    n_true = sum(pos)
    return {
        "accepted": sum(accepted),
        "accepted of truly equivalent": sum(a and t for a, t in zip(accepted, pos)) / max(1, n_true),
        "agreement with expected": sum(a == e for a, e in zip(accepted, exp)) / len(pairs),
        "agreement with truth": sum(a == t for a, t in zip(accepted, pos)) / len(pairs),
        "false accepts (expected False)": sum(a and not e for a, e in zip(accepted, exp)),
        "false rejects (expected True)": sum((not a) and e for a, e in zip(accepted, exp)),
        "false accepts (truth)": sum(a and not t for a, t in zip(accepted, pos)),
        "false rejects (truth)": sum((not a) and t for a, t in zip(accepted, pos)),
    }


def fmt(v: float) -> str:
    return f"{v:.3f}" if isinstance(v, float) and v < 10 else (f"{v:.1f}" if isinstance(v, float) else str(v))


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def report(
    name: str, pairs: list[Pair], mv: list[bool], mv_s: float, mvw: list[bool], mvw_s: float,
    ours: list[bool], ours_s: float, verdicts: list, show: int,
) -> None:
    n = len(pairs)
    sm, sw, so = scores(mv, pairs), scores(mvw, pairs), scores(ours, pairs)
    print(f"\n=== {name}: {n} pairs ({sum(p.truth for p in pairs)} truly equivalent, {sum(p.expected for p in pairs)} expected equivalent)")
    print(f"{'':34s} {'math-verify':>12s} {'mv $gold$':>10s} {'rubricate':>10s} {'ratio':>7s} {'ratio $':>8s}")
    for k in sm:
        show_ratio = k.startswith("accepted") or k.startswith("agreement")
        r1 = ratio(float(so[k]), float(sm[k])) if show_ratio else ""
        r2 = ratio(float(so[k]), float(sw[k])) if show_ratio else ""
        print(f"{k:34s} {fmt(sm[k]):>12s} {fmt(sw[k]):>10s} {fmt(so[k]):>10s} {r1:>7s} {r2:>8s}")
    rate_mv, rate_w, rate_ours = n / mv_s, n / mvw_s, n / ours_s
    print(f"{'verifications / s (1 core)':34s} {rate_mv:12.1f} {rate_w:10.1f} {rate_ours:10.1f} {ratio(rate_ours, rate_mv):>7s} {ratio(rate_ours, rate_w):>8s}")
    by = Counter(("math-verify" if "math-verify" in v.reason else "rules") for v in verdicts if v.verdict in ("correct", "incorrect"))
    print(f"rubricate decided by rules: {by['rules']}, by its math-verify fallback: {by['math-verify']}, "
          f"no_answer: {sum(v.verdict == 'no_answer' for v in verdicts)}, error: {sum(v.verdict == 'error' for v in verdicts)}")
    # against the stronger math-verify variant ($gold$), rubricate's wrong verdicts first
    diff = sorted((i for i in range(n) if mvw[i] != ours[i]), key=lambda i: ours[i] == pairs[i].truth)
    print(f"-- {len(diff)} pairs where rubricate and math-verify ($gold$) disagree; rubricate wrong first")
    print("   (truth | mv $gold$ | rubricate | gold | rubricate's answer | reason | note):")
    for i in diff[:show]:
        p, v = pairs[i], verdicts[i]
        mark = "ours right" if ours[i] == p.truth else "MV right"
        print(f"  [{mark}] {p.truth!s:5} | {mvw[i]!s:5} | {ours[i]!s:5} | {p.gold[:45]!r} | {str(v.extracted_answer)[:45]!r} | {v.reason[:60]} | {p.note[:70]}")
    if len(diff) > show:
        print(f"  ... {len(diff) - show} more")


def class_table() -> None:
    """Issue 11's per-class table: accepted equivalents and false accepts, rubricate vs math-verify."""
    sys.path.insert(0, str(REPO))
    from tests.verify.class_cases import CLASSES

    print("\n=== per-class table (tests/verify/class_cases.py; answers boxed)")
    print(f"{'class':48s} {'equivalent accepted':>22s} {'near misses accepted':>22s}")
    print(f"{'':48s} {'math-verify':>11s} {'rubricate':>10s} {'math-verify':>11s} {'rubricate':>10s}")
    totals = [0, 0, 0, 0, 0, 0]
    decided: Counter[str] = Counter()
    for cls, (eq, near) in CLASSES.items():
        row = []
        for cases in (eq, near):
            pairs = [Pair(cls, g, respond(a), True, True) for g, a, _ in cases]
            mv, _ = run_math_verify(pairs, wrap_gold=True)
            ours, verdicts, _ = run_rubricate(pairs)
            decided.update(("math-verify" if "math-verify" in v.reason else "rules") for v in verdicts)
            row += [sum(mv), sum(ours), len(cases)]
        print(f"{cls[:48]:48s} {row[0]:>5d}/{row[2]:<5d} {row[1]:>4d}/{row[2]:<5d} {row[3]:>5d}/{row[5]:<5d} {row[4]:>4d}/{row[5]:<5d}")
        for i, v in enumerate(row):
            totals[i] += v
    t = totals
    print(f"{'all classes':48s} {t[0]:>5d}/{t[2]:<5d} {t[1]:>4d}/{t[2]:<5d} {t[3]:>5d}/{t[5]:<5d} {t[4]:>4d}/{t[5]:<5d}")
    print(f"  accepted of equivalent: math-verify ($gold$) {t[0] / t[2]:.3f}, rubricate {t[1] / t[2]:.3f}; "
          f"false accepts: math-verify {t[3] / t[5]:.3f}, rubricate {t[4] / t[5]:.3f}; "
          f"rubricate's verdicts decided by rules {decided['rules']}, by its math-verify fallback {decided['math-verify']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-golds", type=int, default=500, help="big_math gold answers to sample (each gives 2-3 pairs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=40, help="disagreements to print per data set")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-classes", action="store_true", help="leave out the per-class table")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # math-verify logs every parse failure

    sets = {"math_verify_tests": math_verify_pairs(), "big_math_5k": big_math_pairs(args.n_golds, args.seed)}
    if not any(sets.values()):
        sys.exit(f"no data under {DATA}: this benchmark reads ../shared/data (math_verify_tests, big_math_5k)")
    print(f"rubricate rule verifier vs math-verify | {date.today()} | {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores | python {platform.python_version()}")
    import math_verify  # noqa: F401  (import cost excluded from both timings)
    from math_verify import parse, verify

    # Its parser is built on first use (about 0.3 s): paid here once, not by whichever verifier runs first.
    verify(parse("$y^2 + 1$"), parse("$1 + y^2$"))

    from rubricate.verify.rules import VERIFIER_ID

    print(f"verifier: {VERIFIER_ID}; math-verify {__import__('importlib.metadata').metadata.version('math-verify')}")
    for name, pairs in sets.items():
        if not pairs:
            print(f"\n=== {name}: data absent, skipped")
            continue
        ours, verdicts, ours_s = run_rubricate(pairs)
        mv, mv_s = run_math_verify(pairs)
        mvw, mvw_s = run_math_verify(pairs, wrap_gold=True)
        report(name, pairs, mv, mv_s, mvw, mvw_s, ours, ours_s, verdicts, args.show)
        pooled, pool_s, startup = run_pool(pairs, args.workers)
        rate = len(pairs) / pool_s
        print(f"rubricate {args.workers}-worker pool: {rate:.1f} verifications/s total, {rate / args.workers:.1f} per core "
              f"({ratio(rate / args.workers, len(pairs) / mv_s)} math-verify's per-core rate; worker start {startup:.1f}s, "
              f"not timed); verdicts identical to in-process: {pooled == ours}")
        if name == "big_math_5k":
            for kind in ("big_math self", "big_math rewrite", "big_math perturbed"):
                idx = [i for i, p in enumerate(pairs) if p.source == kind]
                if idx:
                    a_mv = sum(mv[i] for i in idx) / len(idx)
                    a_w = sum(mvw[i] for i in idx) / len(idx)
                    a_ours = sum(ours[i] for i in idx) / len(idx)
                    print(f"  {kind:20s} n={len(idx):5d}  accepted: math-verify {a_mv:.3f}  mv $gold$ {a_w:.3f}  rubricate {a_ours:.3f}")

    if not args.skip_classes:
        class_table()

    import subprocess

    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"\nmachine load at the end: {load}  (other users share these cores: rates are lower bounds)")


if __name__ == "__main__":
    main()
