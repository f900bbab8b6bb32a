"""Make a dataset's error text domain-general before it is embedded.

Dataset descriptions talk about the problem ("the friend has 12 tires", "Step 5 claims $r = 3^5 + 5$");
a rubric needs the kind of mistake ("adds a quantity the problem never mentioned"). Offline we cannot
rewrite the sentence, but we can remove what is specific to one problem, so that two descriptions of
the same kind of mistake on different problems land near each other in embedding space:

- formulas ($...$, \\(...\\), \\[...\\]) -> "an expression"; numbers -> "a number";
- step references ("Step 5", "steps 3, 4 and 5") -> "a step" / "steps";
- quoted spans -> "a quote"; lone variable letters -> "a variable";
- words that also occur in the problem text (names, objects: "bicycles", "gnomes", "Heidi") -> "something",
  except stop words and the general vocabulary of mistakes, operations and units (kept: they carry the
  error type, e.g. "forgot to convert minutes to hours").

Deterministic and pure; `MASKING_VERSION` is part of every description's provenance.
"""

from __future__ import annotations

import re
from functools import cache

MASKING_VERSION = "mask-v1"

_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+?\$|\\\(.+?\\\)|\\\[.+?\\\]", re.DOTALL)
_STEP_LIST = re.compile(r"\bsteps?\s+\d+(?:\s*(?:,\s*and|,|and|&|-|to|–)\s*(?:steps?\s+)?\d+)*", re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"]{1,200}\"|“[^”]{1,200}”|(?<![A-Za-z])'[^']{2,200}'(?![A-Za-z])")
_NUMBER = re.compile(r"[$€£]?\s?\d+(?:[.,/]\d+)*(?:\s?%|(?:st|nd|rd|th)\b|\b)")
_LONE_LETTER = re.compile(r"(?<![\w'])(?![aAI]\b)[a-zA-Z](?![\w'])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_SPACES = re.compile(r"[ \t]+")
_REPEAT = re.compile(r"\b(something|a number|an expression)(?:(?:\s*(?:,|and|or|/)\s*|\s+)\1\b)+", re.IGNORECASE)

# General words that describe mistakes, operations, quantities and units: never masked, even when the
# problem uses them, because they are what tells one error type from another.
_KEEP = frozenset(
    """
    add added adding addition subtract subtracted subtracting subtraction multiply multiplied multiplying
    multiplication divide divided dividing division sum total difference product quotient remainder
    each per every times twice double half third quarter percent percentage fraction ratio rate average
    mean median proportion probability square root power exponent equation formula expression variable
    unit units convert conversion hour hours minute minutes second seconds day days week weeks month months
    year years cm mm km meter meters metre metres inch inches foot feet mile miles gram grams kg pound pounds
    ounce ounces liter liters litre litres ml cup cups dollar dollars cent cents price prices cost costs
    money profit discount tax interest area perimeter volume length width height radius diameter speed
    distance time number numbers amount amounts quantity quantities value values count answer question
    step steps solution problem calculation calculate calculated information condition conditions
    initial original remaining left more less fewer greater larger smaller before after first last next
    previous final correct incorrect wrong right extra missing forgot forgotten ignored ignore misread
    misunderstood understand assumed assumption instead rather only whole part parts all both same different
    increase decrease increased decreased new old start end between total
    """.split()
)

# Function words (a compact English list; sklearn's would cost an import for a few hundred words).
_STOP = frozenset(
    """
    a about above across after again against all almost also although always am among an and another any
    are as at be because been before being below between both but by can cannot could did do does doing
    done down during each either else enough even ever every few for from further had has have having he
    her here hers herself him himself his how however i if in into is it its itself just least less many
    may me might mine more most much must my myself neither no nor not now of off often on once one only
    onto or other others our ours ourselves out over own per perhaps rather same several she should since
    so some still such than that the their theirs them themselves then there these they this those though
    through thus to too toward towards under until up upon us very was we well were what whatever when
    where whether which while who whom whose why will with within without would yet you your yours
    yourself yourselves get gets got make makes made use used using take takes took need needs needed
    """.split()
)


@cache
def _problem_words(problem: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(problem))


def _stem(word: str) -> str:
    """A crude plural/possessive strip so 'tires' in the description matches 'tire' in the problem."""
    w = word.lower().removesuffix("'s").removesuffix("'")
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def generalize(text: str, problem: str | None = None) -> str:
    """`text` with problem-specific content replaced by neutral placeholders (see the module docstring)."""
    out = _MATH.sub(" an expression ", text)
    out = _STEP_LIST.sub(lambda m: " steps " if re.search(r"\d\D+\d", m.group(0)) else " a step ", out)
    out = _QUOTED.sub(" a quote ", out)
    out = _NUMBER.sub(" a number ", out)
    out = _LONE_LETTER.sub(" a variable ", out)
    if problem:
        words = _problem_words(problem)
        stems = {_stem(w) for w in words}

        def mask(m: re.Match[str]) -> str:
            word = m.group(0)
            low = word.lower()
            if low in _STOP or low in _KEEP or _stem(word) in _KEEP or len(low) < 3:
                return word
            if low in words or _stem(word) in stems:
                return "something"
            return word

        out = _WORD.sub(mask, out)
    out = _REPEAT.sub(lambda m: m.group(1), out)
    out = _SPACES.sub(" ", out).strip()
    return re.sub(r"\s+([,.;:!?])", r"\1", out)
