"""Hand-checked answer pairs that plain math-verify gets wrong or that guard the rules against false accepts.

Each row: (gold, prediction, equivalent, why). `equivalent` is the truth as checked by hand.
"""

from __future__ import annotations

# Truly equivalent; many are rejected by plain math-verify (verify(parse(gold), parse(pred))).
EQUIVALENT: list[tuple[str, str, str]] = [
    # units
    ("125", "125 miles", "answer adds a unit gold leaves out"),
    ("15 \\text{ cm}^2", "15", "answer leaves out gold's unit"),
    ("15 \\text{ cm}^2", "15 \\mbox{cm}^2", "same unit, other markup"),
    ("2 \\text{ hours}", "2 hours", "same unit, plain text"),
    ("0.06 \\text{ yuan}", "0.06", "currency word left out"),
    ("\\$1800", "1800 dollars", "currency sign vs word"),
    ("45^\\circ", "45", "degree sign left out"),
    ("90^\\circ", "\\frac{\\pi}{2}", "degrees vs radians"),
    ("12", "12 apples", "counted objects"),
    # percentages
    ("28\\%", "28", "percent sign left out"),
    ("28\\%", "0.28", "percent as a fraction"),
    ("0.28", "28\\%", "fraction as a percent"),
    ("12.36\\%", "12.36 percent", "percent as a word"),
    ("50", "50\\%", "percent sign added to a number above 1"),
    # numbers
    ("7425000", "7,425,000", "thousands separators"),
    ("14916", "14{,}916", "LaTeX thousands separator"),
    ("1000", "1 000", "space thousands separator"),
    ("\\frac{1}{2}", "0.5", "fraction vs decimal"),
    ("1/3", "0.3333333", "decimal within 1e-6"),
    ("2\\frac{1}{2}", "2.5", "mixed number"),
    ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", "closed forms evaluate equal"),
    ("1.2 \\times 10^{3}", "1200", "scientific notation"),
    ("3", "three", "number word"),
    ("-\\frac{3}{4}", "-0.75", "negative fraction"),
    # text answers
    ("\\text{Evelyn}", "evelyn", "case and markup"),
    ("The pen is more expensive than the backpack.", "the pen is more expensive than the backpack", "case, article, period"),
    ("\\text{odd}", "Odd", "case"),
    ("Necessary but not sufficient", "\\text{necessary but not sufficient}", "text markup"),
    # choice letters
    ("C", "(C)", "parenthesised letter"),
    ("B", "\\text{(B)}", "letter in text markup"),
    ("D", "D) 12", "letter with the option's text"),
    ("(A)", "A", "gold in parentheses"),
    # sets, lists, tuples, intervals
    ("\\{1, 2, 3\\}", "\\{3, 1, 2\\}", "set order"),
    ("-2, 1", "1, -2", "solutions in another order"),
    ("1, 2 \\text{ and } 3", "3, 2, 1", "'and' as a separator"),
    ("(1, 2), (3, 4)", "(3, 4), (1, 2)", "list of pairs in another order"),
    ("x = 1, y = 2", "y = 2, x = 1", "named values in another order"),
    ("(p, q) = (3, 2)", "(3, 2)", "tuple assignment"),
    ("[0, 1)", "0 \\le x < 1", "interval as inequality"),
    ("x > 5", "(5, \\infty)", "inequality as interval"),
    ("(-\\infty, 0] \\cup [4, +\\infty)", "[4, \\infty) \\cup (-\\infty, 0]", "union order"),
    ("\\pm 2", "-2, 2", "plus-minus expands"),
    ("x = 5", "5", "assignment"),
]

# Not equivalent: the rules must reject these (several look alike on the surface).
NOT_EQUIVALENT: list[tuple[str, str, str]] = [
    ("1000000", "1000001", "integers differ by one"),
    ("0.5", "0.5\\%", "probability 0.5 is not 0.5 percent"),
    ("50\\%", "5", "wrong number"),
    ("2 \\text{ m}", "2 \\text{ cm}", "different units"),
    ("(1, 2)", "(2, 1)", "tuple order matters"),
    ("[0, 1]", "(0, 1)", "interval brackets"),
    ("x = 1, y = 2", "x = 2, y = 1", "named values swapped"),
    ("1/3", "0.33", "rounded too far"),
    ("A", "B", "other choice"),
    ("C", "12", "gold is a letter"),
    ("yes", "no", "other text"),
    ("2\\frac{1}{2}", "1", "mixed number is not a product"),
    ("1 - \\frac{1}{e}", "1 + \\frac{1}{e}", "sign (plain math-verify accepts this one)"),
    ("\\pm 2021", "2021", "one of two solutions"),
    ("-2, 1", "-2", "one of two solutions"),
    ("32349", "32, 349", "a list is not a number"),
    ("12", "12.5", "close but different"),
    ("\\sqrt{2}", "1.41", "rounded"),
    ("Bruce, Donna, Amy", "Amy, Donna, Bruce", "an order of names"),
    ("90^\\circ", "45", "other angle"),
]
