"""How the demo writes numbers, and the wrong numbers its errors write instead."""

from __future__ import annotations

import math
import random


def fmt(v: float, money: bool = False) -> str:
    """A whole number without decimals; otherwise two decimals for money, as few as needed for the rest."""
    if abs(v - round(v)) < 1e-9:
        return str(int(round(v)))
    return f"{v:.2f}" if money else f"{v:.2f}".rstrip("0").rstrip(".")


def same(x: float, y: float) -> bool:
    """Equal as written to the cent, which is how answers are compared."""
    return math.isclose(round(x, 2), round(y, 2), abs_tol=1e-9)


def slip_value(r: float, rng: random.Random) -> float:
    """A plausible miscalculation of `r`: off by one, two or ten, or its last two digits swapped."""
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
    """A given number copied wrongly: its last two digits swapped, or a little larger."""
    n = int(v)
    s = str(n)
    if len(s) >= 2 and s[-1] != s[-2]:
        return float(int(s[:-2] + s[-1] + s[-2]))
    return float(n + rng.choice([1, 2, 3])) if n < 10 else float(n + 10)
