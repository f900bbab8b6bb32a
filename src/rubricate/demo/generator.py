"""The demo's traces: problem by problem, k sampled solutions each, some with one injected error and its labels."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterator

from pydantic import Field

from rubricate.demo.answers import ANSWER_STYLES, answer_text, final_line, gold_text, multiple_choice
from rubricate.demo.numbers import fmt, same, slip_value
from rubricate.demo.solve import MISMATCH, Fault, Worked, possible_faults, solve
from rubricate.demo.templates import ERROR_TYPES, demo_data
from rubricate.ingest.records import TraceDraft
from rubricate.strict import Strict


class SampleOptions(Strict):
    """The `sample` reader's `options:`; the defaults are the demo's 60 problems."""

    n_problems: int = Field(default=60, ge=1, le=100_000)
    seed: int = 0
    k: int = Field(default=3, ge=1, le=16)  # sampled traces per problem
    error_rate: float = Field(default=0.35, ge=0.0, le=1.0)  # share of traces that get an injected error
    mc_rate: float = Field(default=0.15, ge=0.0, le=1.0)  # share of problems asked as multiple choice
    # The problems alone (text and gold answer, as the traces pose them), for collect_traces to sample from.
    problems_only: bool = False


@dataclass
class _Plan:
    fault: Fault | None
    work: Worked
    claimed: float
    style: str


def generate(opts: SampleOptions) -> Iterator[TraceDraft]:
    """All traces for the options, in order: problem by problem, k samples each."""
    data = demo_data()
    used = {t: 0 for t in ERROR_TYPES}  # least-used type first, so every type shows up even in small sets
    line = 0
    for i in range(opts.n_problems):
        rng = random.Random(f"rubricate-sample:{opts.seed}:{i}")
        problem = data.problems[i % len(data.problems)].problem(rng, data.people)
        gold_value = solve(problem, None, random.Random(0), None).value
        options = possible_faults(problem)
        plans: list[_Plan] = []
        for _ in range(opts.k):
            fault, sub_seed = None, rng.random()
            if rng.random() < opts.error_rate:
                kinds = sorted(options, key=lambda t: (used[t], rng.random()))
                for kind in kinds:  # a fault that happens to change nothing is not an error; try the next type
                    candidate = rng.choice(options[kind])
                    try:
                        trial = solve(problem, candidate, random.Random(sub_seed), None)
                    except ZeroDivisionError:
                        continue
                    if candidate.silent or kind == MISMATCH or not same(trial.value, gold_value):
                        fault = candidate
                        break
            if fault is not None:
                used[fault.kind] += 1
            intro = rng.choice(data.intros) if rng.random() < 0.3 else None
            work = solve(problem, fault, random.Random(sub_seed), intro)  # the same draws as the trial above
            claimed = work.value
            if fault is not None and fault.kind == MISMATCH:
                claimed = _mismatch(work.value, rng)
            plans.append(_Plan(fault, work, claimed, rng.choice(ANSWER_STYLES)))
        letters: dict[float, str] = {}
        text = problem.text
        if rng.random() < opts.mc_rate:
            text, letters = multiple_choice(problem, gold_value, [p.claimed for p in plans], rng)
        gold = letters[round(gold_value, 2)] if letters else gold_text(problem, gold_value)
        for j, plan in enumerate(plans):
            line += 1
            work, fault = plan.work, plan.fault
            letter = letters.get(round(plan.claimed, 2)) if letters else None
            steps = list(work.lines)
            if fault is not None and fault.kind == MISMATCH:
                work.error_at = len(steps)
                work.description = random.Random(f"{opts.seed}:{i}:{j}").choice(data.descriptions[MISMATCH]).format(
                    wrong=letter or fmt(plan.claimed), right=fmt(work.value))
            answer = answer_text(problem, plan.claimed, plan.style, rng, letter)
            if plan.style == "bare":
                steps.append(answer)
            else:
                steps.append(final_line(plan.style, answer, rng))
            yield TraceDraft(
                line=line,
                problem=text,
                steps=steps,
                gold_answer=gold,
                source_id=f"sample-s{opts.seed}-p{i:04d}-k{j}",
                model="rubricate-sample",
                split=problem.category,
                domain="math",
                label_correct=fault is None,
                label_final_answer_correct=same(plan.claimed, gold_value),
                label_first_error_step=work.error_at if fault is not None else None,
                label_error_type=fault.kind if fault is not None else None,
                label_error_description=work.description if fault is not None else None,
                extra={"template": problem.template, "problem_index": i, "sample_index": j, "answer_style": plan.style,
                       "multiple_choice": bool(letters), "silent_error": bool(fault and fault.silent)},
            )


def _mismatch(value: float, rng: random.Random) -> float:
    """The answer an answer_mismatch states instead of the one its work produced."""
    wrong = slip_value(value, rng)
    return wrong if not same(wrong, value) else value + 1

