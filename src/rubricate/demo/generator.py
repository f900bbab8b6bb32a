"""The demo's own data set: generated word problems with step-by-step traces and exact error labels.

No outside data. `options: {n_problems: 60, seed: 0, k: 3, error_rate: 0.35, mc_rate: 0.15}`.
Problem i is generated from (seed, i) alone, so a smaller `n_problems` gives a prefix of a larger one and the
same seed always gives the same traces (and the same trace ids: re-ingest adds nothing).

Each problem comes from one of twelve templates (shopping, discounts and tax, travel time, linear equations,
ages, inclusive page ranges, fence posts, class percentages, baking in kilograms, a leaking tank, weekly
savings, billable minutes) and is solved as a small chain of computing steps. Each of its `k` sampled traces
is either correct or has exactly one injected error of a known type at a known step; the error propagates
through the later steps the way a real slip would:

  arithmetic_slip      a result is miscalculated (sometimes "silent": the wrong number is written but the later
                       steps go on with the right one, so the final answer is right and the reasoning is not)
  wrong_operation      adds instead of subtracting, divides instead of multiplying, ...
  dropped_condition    a step the problem requires (the tax, the rest stop, the leak) is left out
  unit_conversion      a wrong factor (100 minutes per hour, 100 g per kg)
  sign_error           a term moved across the equals sign keeps its sign
  misread_quantity     a number given in the problem is copied wrongly (digits swapped, ...) from its first use on
  off_by_one           an inclusive count or fence-post count is one short
  answer_mismatch      the work is right but the stated final answer is not what it produced

Labels: label_error_type is one of those codes; label_error_description is a short domain-general sentence
drawn from several phrasings per type (so clustering has real signal, not one string per type);
label_first_error_step is the 0-based step where the error first shows; label_correct is False iff an error
was injected; label_final_answer_correct compares the stated answer with the gold answer.
Final answers come in mixed styles (\\boxed{}, "The answer is X.", "Answer: X", a bare last line, "#### X",
with units, dollars or percent signs) and some problems are multiple choice (gold = the letter), so the
answer verifier has real work. Traces are split by template category (arithmetic, percent, units, algebra,
counting, rates); domain = math.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Callable, Iterator

from pydantic import Field

from rubricate.config import SourceConfig, Strict
from rubricate.ingest.readers._common import parse_options
from rubricate.ingest.records import ReadResult, TraceDraft

ERROR_TYPES = (
    "arithmetic_slip",
    "wrong_operation",
    "dropped_condition",
    "unit_conversion",
    "sign_error",
    "misread_quantity",
    "off_by_one",
    "answer_mismatch",
)
SLIP, WRONG_OP, DROP, UNITS, SIGN, MISREAD, OFF1, MISMATCH = ERROR_TYPES


class SampleOptions(Strict):
    n_problems: int = Field(default=60, ge=1, le=100_000)
    seed: int = 0
    k: int = Field(default=3, ge=1, le=16)  # sampled traces per problem
    error_rate: float = Field(default=0.35, ge=0.0, le=1.0)  # share of traces that get an injected error
    mc_rate: float = Field(default=0.15, ge=0.0, le=1.0)  # share of problems asked as multiple choice


# -- problem specs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One computing step: out = A <op> B, said in one of `say` (placeholders {A} {B} {R} {OP} {M} and givens)."""

    out: str | None
    op: str  # + - * / pct addpct ofpct incl succ note
    a: str | float | None = None
    b: str | float | None = None
    say: tuple[str, ...] = ()
    say_off: tuple[str, ...] = ()  # phrasings of the off-by-one version (incl, succ)
    noun: str = ""  # what the result is, for descriptions
    b_noun: str = ""  # what B is, for descriptions
    faults: frozenset[str] = frozenset()
    drop: str = ""  # the condition this step applies; dropped_condition leaves the step out
    conv: tuple[str, str, float] | None = None  # (large unit, small unit, wrong factor) for unit_conversion
    uses: tuple[str, ...] = ()  # givens a `note` step mentions


@dataclass
class Spec:
    template: str
    category: str
    text: str
    givens: dict[str, float]
    given_nouns: dict[str, str]  # misreadable givens and how to name them
    steps: list[Step]
    answer: str
    kind: str = "number"  # number | money | percent
    unit: str = ""
    money: frozenset[str] = frozenset()
    ctx: dict[str, str] = field(default_factory=dict)


def S(out: str | None, op: str, a: str | float | None, b: str | float | None, say: tuple[str, ...] | str, *, faults: str = "",
      noun: str = "", b_noun: str = "", drop: str = "", say_off: tuple[str, ...] | str = (), conv: tuple[str, str, float] | None = None,
      uses: tuple[str, ...] = ()) -> Step:
    as_tuple = lambda x: (x,) if isinstance(x, str) else tuple(x)  # noqa: E731
    return Step(out, op, a, b, as_tuple(say), as_tuple(say_off), noun, b_noun, frozenset(faults.split()), drop, conv, uses)


NAMES = [("Maya", "she"), ("Leo", "he"), ("Priya", "she"), ("Omar", "he"), ("Sofia", "she"), ("Jonas", "he"), ("Amara", "she"), ("Kenji", "he")]


def _person(rng: random.Random) -> dict[str, str]:
    name, pron = rng.choice(NAMES)
    return {"name": name, "pron": pron, "Pron": pron.capitalize(), "poss": "her" if pron == "she" else "his"}


def t_pencils(rng: random.Random) -> Spec:
    p = _person(rng)
    boxes, per_box = rng.randint(3, 9), rng.choice([6, 8, 10, 12, 24])
    given = rng.randint(5, min(20, boxes * per_box - 1))
    returned = rng.randint(1, given - 1)
    return Spec("pencils", "arithmetic",
        f"{p['name']} buys {boxes} boxes of pencils with {per_box} pencils in each box. {p['Pron']} gives {given} pencils to classmates, "
        f"and later {returned} of them are returned. How many pencils does {p['name']} have now?",
        {"boxes": boxes, "per_box": per_box, "given": given, "returned": returned},
        {"boxes": "the number of boxes", "per_box": "the pencils per box", "given": "the pencils given away", "returned": "the returned pencils"},
        [
            S("total", "*", "boxes", "per_box", ("{name} starts with {A} {OP} {B} = {R} pencils.", "There are {A} boxes of {B} pencils, so {A} {OP} {B} = {R} pencils in all."),
              faults="arithmetic_slip misread_quantity", noun="the number of pencils bought", b_noun="the pencils per box"),
            S("after", "-", "total", "given", ("After giving some away, {A} {OP} {B} = {R} pencils are left.", "Giving away {B} pencils leaves {A} {OP} {B} = {R}."),
              faults="arithmetic_slip wrong_operation", noun="the pencils left after giving some away", b_noun="the pencils given away"),
            S("final", "+", "after", "returned", ("With {B} pencils returned, {name} has {A} {OP} {B} = {R} pencils.", "Adding back the returned pencils: {A} {OP} {B} = {R}."),
              faults="arithmetic_slip wrong_operation dropped_condition", noun="the final number of pencils", b_noun="the returned pencils",
              drop="pencils that were returned"),
        ], "final", unit="pencils", ctx=p)


def t_discount(rng: random.Random) -> Spec:
    price, pct, tax = 20 * rng.randint(2, 10), rng.choice([10, 15, 20, 25, 30, 40]), rng.choice([5, 8, 10])
    item = rng.choice(["jacket", "backpack", "lamp", "pair of boots"])
    return Spec("discount", "percent",
        f"A {item} costs ${price}. It is on sale for {pct}% off, and a sales tax of {tax}% is added to the sale price. "
        "What is the final cost in dollars?",
        {"price": price, "pct": pct, "tax": tax},
        {"price": "the original price", "pct": "the discount rate", "tax": "the tax rate"},
        [
            S("disc", "pct", "price", "pct", ("The discount is {B}% of ${A}, which is ${R}.", "{B}% off ${A} saves ${R}."),
              faults="arithmetic_slip misread_quantity", noun="the discount amount"),
            S("sale", "-", "price", "disc", ("The sale price is ${A} {OP} ${B} = ${R}.", "So the {item} now costs ${A} {OP} ${B} = ${R}."),
              faults="arithmetic_slip wrong_operation dropped_condition", noun="the sale price", b_noun="the discount", drop="the sale discount"),
            S("total", "addpct", "sale", "tax", ("Adding {B}% tax gives ${A} × {M} = ${R}.", "With tax the cost is ${A} × {M} = ${R}."),
              faults="arithmetic_slip dropped_condition", noun="the price with tax", drop="the sales tax"),
        ], "total", kind="money", money=frozenset({"price", "disc", "sale", "total"}), ctx={"item": item})


def t_cyclist(rng: random.Random) -> Spec:
    speed, hours = rng.choice([12, 16, 20, 24]), rng.choice([0.5, 0.75, 1.25, 1.5, 2, 2.5])
    dist, rest = int(speed * hours), rng.choice([10, 15, 20, 25, 30])
    p = _person(rng)
    return Spec("cyclist", "units",
        f"{p['name']} rides a bike {dist} km at an average speed of {speed} km/h, then rests for {rest} minutes. "
        "How many minutes does the whole trip take?",
        {"dist": dist, "speed": speed, "rest": rest},
        {"dist": "the distance", "speed": "the speed", "rest": "the length of the rest"},
        [
            S("hrs", "/", "dist", "speed", ("Riding {A} km at {B} km/h takes {A} {OP} {B} = {R} hours.", "The ride lasts {A} {OP} {B} = {R} hours."),
              faults="arithmetic_slip wrong_operation misread_quantity", noun="the riding time in hours", b_noun="the speed"),
            S("mins", "*", "hrs", 60.0, ("In minutes that is {A} × {B} = {R} minutes.", "Converting to minutes: {A} × {B} = {R}."),
              faults="arithmetic_slip unit_conversion", noun="the riding time in minutes", conv=("hour", "minutes", 100.0)),
            S("total", "+", "mins", "rest", ("Including the {B}-minute rest, the trip takes {A} {OP} {B} = {R} minutes.", "Adding the rest: {A} {OP} {B} = {R} minutes."),
              faults="arithmetic_slip dropped_condition", noun="the total trip time", b_noun="the rest", drop="rest stop"),
        ], "total", unit="minutes", ctx=p)


def t_linear(rng: random.Random) -> Spec:
    k, x, m = rng.randint(2, 9), rng.randint(2, 20), rng.randint(3, 30)
    c = k * x + m
    return Spec("linear", "algebra",
        f"When a number is multiplied by {k} and then {m} is added, the result is {c}. What is the number?",
        {"k": k, "m": m, "c": c},
        {"k": "the multiplier", "m": "the number added", "c": "the result"},
        [
            S(None, "note", None, None, ("Let the number be x, so {k}x + {m} = {c}.", "Write the equation {k}x + {m} = {c}."), uses=("k", "m", "c")),
            S("kx", "-", "c", "m", ("Moving {B} to the other side: {k}x = {A} {OP} {B} = {R}.", "Then {k}x = {A} {OP} {B} = {R}."),
              faults="arithmetic_slip sign_error", noun="the value of the x term", b_noun="the constant term"),
            S("x", "/", "kx", "k", ("Dividing by {B}: x = {A} {OP} {B} = {R}.", "So x = {A} {OP} {B} = {R}."),
              faults="arithmetic_slip wrong_operation", noun="x", b_noun="the coefficient"),
        ], "x")


def t_ages(rng: random.Random) -> Spec:
    b, d, y = rng.randint(3, 20), rng.randint(2, 10), rng.randint(2, 10)
    s = (b + y) + (b + d + y)
    p = _person(rng)
    sib = "brother" if p["pron"] == "she" else "sister"
    return Spec("ages", "algebra",
        f"{p['name']} is {d} years older than {p['poss']} {sib}. In {y} years, the sum of their ages will be {s}. How old is the {sib} now?",
        {"d": d, "y": y, "s": s},
        {"d": "the age difference", "y": "the number of years", "s": "the sum of the ages"},
        [
            S("gain", "*", "y", 2.0, ("Let the {sib}'s age now be x. In {A} years both are {A} years older, adding {A} × {B} = {R} to the sum.",),
              faults="arithmetic_slip misread_quantity", noun="the years added to the sum"),
            S("const", "+", "d", "gain", ("The ages then sum to 2x + {A} {OP} {B} = 2x + {R}, and this equals {s}.", "So 2x + ({A} {OP} {B}) = 2x + {R} = {s}."),
              faults="arithmetic_slip wrong_operation", noun="the constant term", b_noun="the added years"),
            S("two_x", "-", "s", "const", ("Moving {B} across: 2x = {A} {OP} {B} = {R}.", "Then 2x = {A} {OP} {B} = {R}."),
              faults="arithmetic_slip sign_error", noun="twice the age", b_noun="the constant"),
            S("x", "/", "two_x", 2.0, ("So x = {A} {OP} {B} = {R}.", "Halving: x = {A} {OP} {B} = {R}."), faults="arithmetic_slip", noun="the age"),
        ], "x", unit="years", ctx=p | {"sib": sib})


def t_pages(rng: random.Random) -> Spec:
    p1 = rng.randint(5, 60)
    p2, p3 = p1 + rng.randint(8, 40), rng.randint(5, 30)
    p = _person(rng)
    return Spec("pages", "counting",
        f"{p['name']} reads pages {p1} through {p2} of a novel on Monday, including both of those pages, and {p3} more pages on Tuesday. "
        f"How many pages does {p['name']} read in total?",
        {"p1": p1, "p2": p2, "p3": p3},
        {"p1": "the first page", "p2": "the last page", "p3": "the pages read on Tuesday"},
        [
            S("n", "incl", "p1", "p2", ("Pages {A} to {B} inclusive make {B} - {A} + 1 = {R} pages.", "Counting both ends, Monday covers {B} - {A} + 1 = {R} pages."),
              say_off=("Pages {A} to {B} make {B} - {A} = {R} pages.", "Monday covers {B} - {A} = {R} pages."),
              faults="arithmetic_slip off_by_one misread_quantity", noun="the pages read on Monday"),
            S("total", "+", "n", "p3", ("Adding Tuesday's {B} pages: {A} {OP} {B} = {R} pages.", "In total {A} {OP} {B} = {R} pages."),
              faults="arithmetic_slip wrong_operation dropped_condition", noun="the total pages", b_noun="Tuesday's pages", drop="pages read on Tuesday"),
        ], "total", unit="pages", ctx=p)


def t_fence(rng: random.Random) -> Spec:
    d, gaps, cost = rng.choice([2, 3, 4, 5, 6]), rng.randint(4, 20), rng.randint(3, 15)
    length = d * gaps
    return Spec("fence", "counting",
        f"A straight fence {length} meters long has a post every {d} meters, with a post at each end. Each post costs ${cost}. "
        "How much do the posts cost in total, in dollars?",
        {"length": length, "d": d, "cost": cost},
        {"length": "the fence length", "d": "the post spacing", "cost": "the price per post"},
        [
            S("gaps", "/", "length", "d", ("The fence has {A} {OP} {B} = {R} gaps between posts.", "There are {A} {OP} {B} = {R} sections of fence."),
              faults="arithmetic_slip wrong_operation misread_quantity", noun="the number of gaps", b_noun="the spacing"),
            S("posts", "succ", "gaps", None, ("With a post at both ends there are {A} + 1 = {R} posts.", "Posts are one more than gaps: {A} + 1 = {R}."),
              say_off=("So there are {R} posts.", "That means {R} posts are needed."),
              faults="arithmetic_slip off_by_one", noun="the number of posts"),
            S("total", "*", "posts", "cost", ("The posts cost {A} {OP} ${B} = ${R}.", "Total cost: {A} {OP} {B} = ${R}."),
              faults="arithmetic_slip", noun="the total cost"),
        ], "total", kind="money", money=frozenset({"cost", "total"}))


def t_class(rng: random.Random) -> Spec:
    n = rng.choice([20, 25, 50])
    walk = rng.randint(2, n // 3)
    bus = rng.randint(1, n - walk - 2)
    return Spec("class", "percent",
        f"In a class of {n} students, {walk} walk to school and {bus} of the others take the bus. "
        "What percentage of the class neither walks nor takes the bus?",
        {"n": n, "walk": walk, "bus": bus},
        {"n": "the class size", "walk": "the students who walk", "bus": "the students who take the bus"},
        [
            S("rest", "-", "n", "walk", ("{A} {OP} {B} = {R} students do not walk.", "Students who don't walk: {A} {OP} {B} = {R}."),
              faults="arithmetic_slip wrong_operation misread_quantity", noun="the students who do not walk", b_noun="the walkers"),
            S("neither", "-", "rest", "bus", ("Of those, {A} {OP} {B} = {R} do not take the bus either.", "That leaves {A} {OP} {B} = {R} students."),
              faults="arithmetic_slip wrong_operation dropped_condition", noun="the students who neither walk nor ride", b_noun="the bus riders",
              drop="students who take the bus"),
            S("pct", "ofpct", "neither", "n", ("As a share of the class: {A} ÷ {B} × 100 = {R}%.", "That is {A}/{B} = {R}% of the class."),
              faults="arithmetic_slip", noun="the percentage"),
        ], "pct", kind="percent")


def t_bakery(rng: random.Random) -> Spec:
    grams, loaves, days = rng.choice([250, 400, 500, 750, 800]), rng.randint(10, 60), rng.randint(3, 7)
    return Spec("bakery", "units",
        f"A bakery uses {grams} grams of flour per loaf and bakes {loaves} loaves a day. How many kilograms of flour does it use in {days} days?",
        {"grams": grams, "loaves": loaves, "days": days},
        {"grams": "the flour per loaf", "loaves": "the loaves per day", "days": "the number of days"},
        [
            S("per_day", "*", "grams", "loaves", ("Each day it uses {A} {OP} {B} = {R} g.", "Daily flour: {A} {OP} {B} = {R} grams."),
              faults="arithmetic_slip misread_quantity", noun="the daily flour"),
            S("grams_total", "*", "per_day", "days", ("Over {B} days that is {A} {OP} {B} = {R} g.", "For {B} days: {A} {OP} {B} = {R} grams."),
              faults="arithmetic_slip", noun="the total grams"),
            S("kg", "/", "grams_total", 1000.0, ("In kilograms: {A} ÷ {B} = {R} kg.", "Converting grams to kilograms, {A} ÷ {B} = {R}."),
              faults="arithmetic_slip unit_conversion", noun="the flour in kilograms", conv=("kilogram", "grams", 100.0)),
        ], "kg", unit="kg")


def t_tank(rng: random.Random) -> Spec:
    fill = rng.randint(6, 20)
    leak = rng.randint(1, fill - 2)
    minutes = rng.randint(5, 30)
    volume = (fill - leak) * minutes
    return Spec("tank", "rates",
        f"A pump fills a tank at {fill} liters per minute, but a leak drains {leak} liters per minute at the same time. "
        f"How many minutes does it take to fill the empty {volume}-liter tank?",
        {"fill": fill, "leak": leak, "volume": volume},
        {"fill": "the pump rate", "leak": "the leak rate", "volume": "the tank volume"},
        [
            S("net", "-", "fill", "leak", ("The tank gains {A} {OP} {B} = {R} liters each minute.", "Net filling rate: {A} {OP} {B} = {R} L/min."),
              faults="arithmetic_slip wrong_operation dropped_condition misread_quantity", noun="the net filling rate", b_noun="the leak rate",
              drop="leak"),
            S("t", "/", "volume", "net", ("Filling {A} liters takes {A} {OP} {B} = {R} minutes.", "Time = {A} {OP} {B} = {R} minutes."),
              faults="arithmetic_slip wrong_operation", noun="the filling time", b_noun="the rate"),
        ], "t", unit="minutes")


def t_savings(rng: random.Random) -> Spec:
    weekly, first = rng.choice([5, 10, 12, 15, 20, 25]), rng.randint(1, 20)
    last = first + rng.randint(5, 30)
    saved = weekly * (last - first + 1)
    spent = rng.randint(saved // 4, saved // 2)
    p = _person(rng)
    return Spec("savings", "counting",
        f"{p['name']} saves ${weekly} every week from week {first} to week {last} of the year, including both of those weeks. "
        f"Then {p['pron']} spends ${spent} on a bike. How many dollars are left?",
        {"weekly": weekly, "first": first, "last": last, "spent": spent},
        {"weekly": "the weekly savings", "first": "the first week", "last": "the last week", "spent": "the amount spent"},
        [
            S("weeks", "incl", "first", "last", ("Weeks {A} through {B} are {B} - {A} + 1 = {R} weeks.", "That is {B} - {A} + 1 = {R} weeks of saving."),
              say_off=("Weeks {A} through {B} are {B} - {A} = {R} weeks.", "That is {B} - {A} = {R} weeks of saving."),
              faults="arithmetic_slip off_by_one", noun="the number of weeks"),
            S("saved", "*", "weeks", "weekly", ("{Pron} saves {A} {OP} ${B} = ${R}.", "Savings: {A} {OP} {B} = ${R}."),
              faults="arithmetic_slip misread_quantity", noun="the total saved"),
            S("left", "-", "saved", "spent", ("After the bike, ${A} {OP} ${B} = ${R} is left.", "Remaining: {A} {OP} {B} = ${R}."),
              faults="arithmetic_slip wrong_operation dropped_condition", noun="the money left", b_noun="the bike's price", drop="money spent on the bike"),
        ], "left", kind="money", money=frozenset({"weekly", "spent", "saved", "left"}), ctx=p)


def t_electrician(rng: random.Random) -> Spec:
    rate, minutes, hours = rng.choice([40, 48, 60, 72, 80]), rng.choice([15, 30, 45, 90, 105, 135]), rng.randint(1, 6)
    return Spec("electrician", "units",
        f"An electrician charges ${rate} per hour. She works {minutes} minutes on Monday and {hours} hours on Tuesday. "
        "How much does she charge in total, in dollars?",
        {"rate": rate, "minutes": minutes, "hours": hours},
        {"rate": "the hourly rate", "minutes": "Monday's minutes", "hours": "Tuesday's hours"},
        [
            S("mon", "/", "minutes", 60.0, ("Monday's {A} minutes are {A} ÷ {B} = {R} hours.", "Converting Monday to hours: {A} ÷ {B} = {R}."),
              faults="arithmetic_slip unit_conversion misread_quantity", noun="Monday's hours", conv=("hour", "minutes", 100.0)),
            S("all_h", "+", "mon", "hours", ("Together she works {A} {OP} {B} = {R} hours.", "Total time: {A} {OP} {B} = {R} hours."),
              faults="arithmetic_slip wrong_operation dropped_condition", noun="the total hours", b_noun="Tuesday's hours", drop="hours worked on Tuesday"),
            S("bill", "*", "all_h", "rate", ("The charge is {A} {OP} ${B} = ${R}.", "She charges {A} {OP} {B} = ${R}."),
              faults="arithmetic_slip", noun="the total charge"),
        ], "bill", kind="money", money=frozenset({"rate", "bill"}))


TEMPLATES: list[Callable[[random.Random], Spec]] = [
    t_pencils, t_discount, t_cyclist, t_linear, t_ages, t_pages, t_fence, t_class, t_bakery, t_tank, t_savings, t_electrician,
]

# -- error descriptions: several phrasings per type, domain-general -------------------------------------------

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "slip": (
        "miscalculates {expr} as {wrong} instead of {right}",
        "arithmetic slip: {expr} is {right}, not {wrong}",
        "computes {noun} incorrectly, getting {wrong} rather than {right}",
        "makes a calculation error in {expr} and writes {wrong}",
    ),
    "slip_silent": (
        "writes {expr} = {wrong} but continues with the correct value {right}",
        "states a wrong intermediate result ({wrong} for {expr}) that later steps ignore",
        "an incorrect calculation of {noun} ({wrong}) appears in the work although the final answer is right",
    ),
    "+>-": (
        "subtracts {b_noun} instead of adding them",
        "takes away {b_noun} although they should be added",
        "uses subtraction where {b_noun} should be added on",
    ),
    "->+": (
        "adds {b_noun} instead of subtracting them",
        "treats {b_noun} as a gain when they should be taken away",
        "uses addition where {b_noun} should be subtracted",
    ),
    "*>/": (
        "divides by {b_noun} where it should multiply",
        "uses division instead of multiplication for {noun}",
        "splits the amount by {b_noun} rather than scaling it up",
    ),
    "/>*": (
        "multiplies by {b_noun} instead of dividing",
        "uses multiplication where {noun} needs a division",
        "scales up by {b_noun} where it should divide",
    ),
    DROP: (
        "ignores the {drop} stated in the problem",
        "forgets to account for the {drop}",
        "leaves out the {drop} when computing {noun}",
        "drops the condition about the {drop}",
    ),
    UNITS: (
        "converts between {small} and {large}s with {wrong_f} per {large} instead of {f}",
        "uses the wrong conversion factor between {small} and {large}s",
        "treats one {large} as {wrong_f} {small}",
        "unit conversion error: {wrong_f} {small} in one {large} rather than {f}",
    ),
    SIGN: (
        "moves {b_noun} to the other side of the equation without changing its sign",
        "keeps the plus sign when moving a term across the equals sign",
        "sign error when isolating the unknown: adds {B} instead of subtracting it",
    ),
    MISREAD: (
        "uses {wrong} for {noun}, but the problem says {right}",
        "misreads a given number: {noun} is {right}, not {wrong}",
        "copies {noun} from the problem incorrectly as {wrong}",
        "works with the wrong given value ({wrong} instead of {right})",
    ),
    "incl": (
        "counts the inclusive range from {A} to {B} as {B} - {A}, missing one endpoint",
        "off-by-one error: forgets to include both ends of the range",
        "leaves out one item when counting from {A} to {B} inclusive",
    ),
    "succ": (
        "forgets that the number of posts is one more than the number of gaps",
        "fence-post error: counts the gaps instead of the posts",
        "off by one: uses {wrong} posts instead of {right}",
    ),
    MISMATCH: (
        "states {wrong} as the final answer although the work gives {right}",
        "the final answer does not match the result computed in the steps",
        "reports a final answer ({wrong}) that contradicts the preceding calculation",
        "writes a different number as the final answer than the work produced",
    ),
}

INTROS = ("Let's solve this step by step.", "We work through the problem one step at a time.", "Let me think about this carefully.")
ANSWER_STYLES = ("boxed", "answer_is", "answer_colon", "bare", "hashes")
LETTERS = "ABCD"

# -- numbers -------------------------------------------------------------------------------------------------


def fmt(v: float, money: bool = False) -> str:
    if abs(v - round(v)) < 1e-9:
        return str(int(round(v)))
    return f"{v:.2f}" if money else f"{v:.2f}".rstrip("0").rstrip(".")


def same(x: float, y: float) -> bool:
    return math.isclose(round(x, 2), round(y, 2), abs_tol=1e-9)


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


def slip_value(r: float, rng: random.Random) -> float:
    if abs(r - round(r)) < 1e-9:
        n = int(round(r))
        options = [n + 1, n - 1, n + 2, n + 10, n - 10]
        s = str(abs(n))
        if len(s) >= 2 and s[-1] != s[-2]:
            options.append(int(s[:-2] + s[-1] + s[-2]) * (1 if n >= 0 else -1))
        options = [o for o in options if o != n and o > 0] or [n + 1]
        return float(rng.choice(options))
    return round(r + rng.choice([0.1, -0.1, 0.5, 1.0]), 2)


def misread_value(v: float, rng: random.Random) -> float:
    n = int(v)
    s = str(n)
    if len(s) >= 2 and s[-1] != s[-2]:
        return float(int(s[:-2] + s[-1] + s[-2]))
    return float(n + rng.choice([1, 2, 3])) if n < 10 else float(n + 10)


# -- solving with an optional injected error -----------------------------------------------------------------


@dataclass
class Fault:
    kind: str
    step: int | None = None  # index into Spec.steps
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


def _consumers(spec: Spec, name: str) -> list[int]:
    return [i for i, st in enumerate(spec.steps) if name in (st.a, st.b)]


def solve(spec: Spec, fault: Fault | None, rng: random.Random, intro: str | None) -> Worked:
    env: dict[str, float] = dict(spec.givens)
    lines: list[str] = [intro] if intro else []
    work = Worked(lines, 0.0)
    vary = rng.random()  # one phrasing choice per trace, so a trace reads consistently

    def show(name: str | float | None, value: float) -> str:
        return fmt(value, money=isinstance(name, str) and name in spec.money)

    def describe(key: str, **slots: object) -> str:
        return rng.choice(DESCRIPTIONS[key]).format(**slots)

    for i, st in enumerate(spec.steps):
        strike = fault.kind if fault is not None and fault.step == i else None  # the fault that hits this step
        if fault is not None and fault.kind == MISREAD and fault.given and not work.fired and fault.given in {st.a, st.b, *st.uses}:
            right = env[fault.given]
            env[fault.given] = misread_value(right, rng)  # from its first use on, the wrong number is carried along
            work.error_at, work.fired = len(lines), True
            work.description = describe(MISREAD, wrong=fmt(env[fault.given]), right=fmt(right), noun=spec.given_nouns[fault.given])
        if st.op == "note":
            ctx = spec.ctx | {k: fmt(v) for k, v in env.items()}
            lines.append(st.say[int(vary * len(st.say))].format(**ctx))
            continue
        assert st.out is not None
        if strike == DROP:
            env[st.out] = _operand(st.a, env)
            work.error_at, work.fired = len(lines), True  # the next step is the first to use the unadjusted value
            work.description = describe(DROP, drop=st.drop, noun=_consumer_noun(spec, i))
            continue
        a, b = _operand(st.a, env), _operand(st.b, env)
        right = apply(st.op, a, b)
        op, b_used, says = st.op, b, st.say
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
        ctx = spec.ctx | {k: fmt(v, k in spec.money) for k, v in env.items()} | {
            "A": show(st.a, a), "B": show(st.b, b_used), "R": show(st.out, shown), "OP": SYMBOL.get(op, op), "M": fmt(1 + b_used / 100),
        }
        lines.append(says[int(vary * len(says))].format(**ctx))
        env[st.out] = r
        if strike is not None and fault is not None:
            work.error_at, work.fired = len(lines) - 1, True
            work.description = _describe_step(fault, st, ctx, right, describe)
    work.value = env[spec.answer]
    return work


def _consumer_noun(spec: Spec, i: int) -> str:
    later = [j for j in _consumers(spec, spec.steps[i].out or "") if j > i]
    return spec.steps[later[0]].noun if later else "the final answer"


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


def possible_faults(spec: Spec) -> dict[str, list[Fault]]:
    """Every (type -> faults) that can strike this problem."""
    found: dict[str, list[Fault]] = {t: [] for t in ERROR_TYPES}
    for i, st in enumerate(spec.steps):
        for kind in st.faults:
            if kind == MISREAD:
                continue
            if kind == SLIP:
                found[SLIP].append(Fault(SLIP, i))
                if st.out and any(j > i for j in _consumers(spec, st.out)):
                    found[SLIP].append(Fault(SLIP, i, silent=True))
            else:
                found[kind].append(Fault(kind, i))
        for name in (st.a, st.b, *st.uses):
            if isinstance(name, str) and name in spec.given_nouns and MISREAD in st.faults | ({MISREAD} if st.op == "note" else set()):
                found[MISREAD].append(Fault(MISREAD, given=name))
    found[MISMATCH].append(Fault(MISMATCH))
    return {k: v for k, v in found.items() if v}


# -- rendering the final answer ------------------------------------------------------------------------------


def answer_text(spec: Spec, value: float, style: str, rng: random.Random, letter: str | None) -> str:
    if letter is not None:
        return f"({letter})" if style == "answer_is" else letter
    num = fmt(value, money=spec.kind == "money")
    if spec.kind == "money":
        return rng.choice([f"${num}", num, f"{num} dollars"]) if style != "boxed" else rng.choice([num, f"\\${num}"])
    if spec.kind == "percent":
        return rng.choice([f"{num}\\%", num]) if style == "boxed" else rng.choice([f"{num}%", f"{num} percent"])
    if spec.unit and style not in ("bare", "hashes") and rng.random() < 0.5:
        return f"{num} {spec.unit}" if style != "boxed" else f"{num} \\text{{ {spec.unit}}}"
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


def gold_text(spec: Spec, value: float) -> str:
    num = fmt(value)
    return f"{num}%" if spec.kind == "percent" else num


# -- the reader ----------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    fault: Fault | None
    work: Worked
    claimed: float
    style: str


def generate(opts: SampleOptions) -> Iterator[TraceDraft]:
    """All traces for the options, in order: problem by problem, k samples each."""
    used = {t: 0 for t in ERROR_TYPES}  # least-used type first, so every type shows up even in small sets
    line = 0
    for i in range(opts.n_problems):
        rng = random.Random(f"rubricate-sample:{opts.seed}:{i}")
        spec = TEMPLATES[i % len(TEMPLATES)](rng)
        gold_value = solve(spec, None, random.Random(0), None).value
        options = possible_faults(spec)
        plans: list[_Plan] = []
        for _ in range(opts.k):
            fault, sub_seed = None, rng.random()
            if rng.random() < opts.error_rate:
                kinds = sorted(options, key=lambda t: (used[t], rng.random()))
                for kind in kinds:  # a fault that happens to change nothing is not an error; try the next type
                    candidate = rng.choice(options[kind])
                    try:
                        trial = solve(spec, candidate, random.Random(sub_seed), None)
                    except ZeroDivisionError:
                        continue
                    if candidate.silent or kind == MISMATCH or not same(trial.value, gold_value):
                        fault = candidate
                        break
            if fault is not None:
                used[fault.kind] += 1
            intro = rng.choice(INTROS) if rng.random() < 0.3 else None
            work = solve(spec, fault, random.Random(sub_seed), intro)  # the same draws as the trial above
            claimed = work.value
            if fault is not None and fault.kind == MISMATCH:
                claimed = _mismatch(work.value, spec, rng)
            plans.append(_Plan(fault, work, claimed, rng.choice(ANSWER_STYLES)))
        letters: dict[float, str] = {}
        text = spec.text
        if rng.random() < opts.mc_rate:
            text, letters = _multiple_choice(spec, gold_value, [p.claimed for p in plans], rng)
        gold = letters[round(gold_value, 2)] if letters else gold_text(spec, gold_value)
        for j, plan in enumerate(plans):
            line += 1
            work, fault = plan.work, plan.fault
            letter = letters.get(round(plan.claimed, 2)) if letters else None
            steps = list(work.lines)
            if fault is not None and fault.kind == MISMATCH:
                work.error_at = len(steps)
                work.description = random.Random(f"{opts.seed}:{i}:{j}").choice(DESCRIPTIONS[MISMATCH]).format(
                    wrong=letter or fmt(plan.claimed), right=fmt(work.value))
            answer = answer_text(spec, plan.claimed, plan.style, rng, letter)
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
                split=spec.category,
                domain="math",
                label_correct=fault is None,
                label_final_answer_correct=same(plan.claimed, gold_value),
                label_first_error_step=work.error_at if fault is not None else None,
                label_error_type=fault.kind if fault is not None else None,
                label_error_description=work.description if fault is not None else None,
                extra={"template": spec.template, "problem_index": i, "sample_index": j, "answer_style": plan.style,
                       "multiple_choice": bool(letters), "silent_error": bool(fault and fault.silent)},
            )


def _mismatch(value: float, spec: Spec, rng: random.Random) -> float:
    wrong = slip_value(value, rng)
    return wrong if not same(wrong, value) else value + 1


def _multiple_choice(spec: Spec, gold: float, claimed: list[float], rng: random.Random) -> tuple[str, dict[float, str]]:
    values = [round(gold, 2)]
    for v in claimed + [gold * 2, gold + 10, gold / 2 if gold else 1, gold + 1, gold - 1]:
        v = round(v, 2)
        if len(values) < 4 and not any(same(v, w) for w in values):
            values.append(v)
    rng.shuffle(values)
    letters = {v: LETTERS[n] for n, v in enumerate(values)}
    suffix = "%" if spec.kind == "percent" else ""
    prefix = "$" if spec.kind == "money" else ""
    listing = "\n".join(f"({LETTERS[n]}) {prefix}{fmt(v, spec.kind == 'money')}{suffix}" for n, v in enumerate(values))
    return f"{spec.text}\nOptions:\n{listing}", letters


class SampleReader:
    dataset = "sample"

    def read(self, source: SourceConfig) -> Iterator[ReadResult]:
        yield from generate(parse_options(source, SampleOptions))
