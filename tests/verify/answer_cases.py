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
    # expressions, by a randomised numeric identity test (no sympy)
    ("x + 1", "1 + x", "commuted sum"),
    ("\\sec^2 y", "\\tan^2 y + 1", "trigonometric identity"),
    ("S_n = 2^{n+1} - 2", "2(2^n - 1)", "sequence formula, integer n"),
    ("\\frac{(3n)!}{(n!)^3}", "\\frac{(3n)!}{n! \\cdot n! \\cdot n!}", "factorials"),
    ("\\binom{5}{2}", "10", "binomial coefficient"),
    ("\\frac{\\sqrt{3}}{2}", "\\sin\\frac{\\pi}{3}", "a closed form through a function"),
    ("2x + 4y = 3", "x + 2y = \\frac{3}{2}", "proportional equations"),
    ("y < \\frac{1}{x}", "\\frac{1}{x} > y", "relation written the other way"),
    ("2\\binom{2017}{1008}", "2\\binom{2017}{1009}", "binomial symmetry (exact big integers)"),
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
    ("\\sqrt{2}", "1.42", "wrongly rounded (1.41 is sqrt 2 at its stated precision)"),
    ("Bruce, Donna, Amy", "Amy, Donna, Bruce", "an order of names"),
    ("90^\\circ", "45", "other angle"),
    ("x + 1", "x + 2", "other constant"),
    ("x^2", "t^2", "other variable"),
    ("3^{13} - 3", "3^{13} - 4", "huge exact values one apart"),
    ("a_n = 2 \\cdot 3^{n-1} - 1", "2 \\cdot 3^{n-1} - 2", "huge values at integer n"),
    ("\\frac{1}{2^{n} - 1}", "\\frac{1}{2^{n} - 2}", "tiny values at integer n"),
    ("\\frac{n}{4}\\binom{n-5}{3}", "\\frac{n}{4}\\binom{n-5}{4}", "binomials that vanish at small n"),
    ("C: 5", "C: 6", "same letter, contradicting option text"),
    ("x < \\frac{1-a}{1+a}", "x < \\frac{1-a}{2+a}", "one side of a relation differs"),
    ("e^2 x - y - e^2 = 0", "e^2 x - y - e^2 = 1", "equation with another constant"),
    ("\\frac{x}{x - 1}", "\\frac{x}{x - x}", "answer undefined where gold is defined"),
    ("20 \\text{ workers for tabletops, } 40 \\text{ workers for legs}", "20 \\text{ workers for tabletops, } 41 \\text{ workers for legs}", "math-verify reads a fragment"),  # noqa: E501 (a test case reads best on one line)
    ("7 \\text{ h } 30 \\text{ min}", "7 \\text{ h } 31 \\text{ min}", "math-verify ignores the minutes"),
]
