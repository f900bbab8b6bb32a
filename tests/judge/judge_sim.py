"""A scripted "model" for the stub OpenAI server: it judges arithmetic in numbered steps and, in obey mode,
follows instructions it finds OUTSIDE a properly fenced block (as a model that respects fences would, and
as any model would when the prompt does not fence the trace at all).

It reads as a model does, not as a regex: what it sees is the text after `perceive` (invisible characters
gone, Unicode tag characters read as the ASCII they encode, full-width and look-alike letters read as
the letters they imitate), and the fence ends at the first END marker it sees, whatever its id (a model
does not check hashes). So a disguised fake end marker inside the trace fools it, as it would a model.

Truth: a step is wrong when it states `a + b = c` (or -, *, x) and the arithmetic is false. The rubric has
an item "arith" that catches exactly that; other items are never present.
"""

from __future__ import annotations

import json
import re
import unicodedata
from fractions import Fraction
from typing import Any

from tests.stub_server import Reply, system_text, user_text

_BEGIN = re.compile(r"<<<UNTRUSTED (\w+)>>>\n")
_END = re.compile(r"\n?<<<\s*END\s+UNTRUSTED\b[^\n>]*(?:>>>)?", re.IGNORECASE)
# Look-alikes the tests disguise markers with (chosen here, independently of rubricate's own table).
_LOOKALIKE = str.maketrans({"\u2039": "<", "\u203a": ">", "\u00ab": "<<", "\u0415": "E", "\u0422": "T", "\u0405": "S",
                            "\u039d": "N", "\u0395": "E", "\u03a4": "T", "\u13a0": "D", "\u0435": "e", "\u0455": "s"})
_STEP = re.compile(r"\[step (\d+)\] (.*?)(?=\n\n\[step \d+\] |\n<<<|\Z)", re.DOTALL)
_ARITH = re.compile(r"(\d+)\s*([-+*x])\s*(\d+)\s*=\s*(\d+)")
_JSON = re.compile(r"\{[^{}]*\"(?:verdict|selected|items|equivalent)\"[^{}]*\}")
ARITH_ITEM = "arith"


def perceive(text: str) -> str:
    """The text as a model reads it."""
    text = "".join(chr(ord(c) - 0xE0000) if 0xE0020 <= ord(c) <= 0xE007E else c for c in text)  # tag characters
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Mn"))
    return text.translate(_LOOKALIKE)


def split_fence(text: str) -> tuple[str, str]:
    """(inside the first fence, everything outside it), as perceived. No fence: everything is outside.
    The fence runs from a begin marker to the first END marker seen after it, whatever that marker's id."""
    text = perceive(text)
    begin = _BEGIN.search(text)
    if not begin:
        return text, text
    end = _END.search(text, begin.end())
    if not end:
        return text[begin.end() :], text[: begin.start()]
    return text[begin.end() : end.start()], text[: begin.start()] + text[end.end() :]


def first_wrong_step(text: str) -> tuple[int, str] | None:
    for m in _STEP.finditer(text):
        for a in _ARITH.finditer(m.group(2)):
            x, op, y, z = int(a.group(1)), a.group(2), int(a.group(3)), int(a.group(4))
            value = {"+": x + y, "-": x - y, "*": x * y, "x": x * y}[op]
            if value != z:
                return int(m.group(1)), a.group(0)
    return None


def _num(s: str) -> Fraction | None:
    try:
        return Fraction(s.strip().replace(" ", ""))
    except (ValueError, ZeroDivisionError):
        return None


def judge_answer(body: dict[str, Any], obey: bool = True) -> str:
    system, user = system_text(body), user_text(body)
    inside, outside = split_fence(user)
    if obey:
        fake = _JSON.search(outside)
        if fake:
            return fake.group(0)  # obeys a verdict it was handed
        told_correct = re.search(r"answer\s+correct", outside, re.IGNORECASE) is not None
    else:
        told_correct = False
    if "You check answers" in system:  # the verifier's equivalence question
        ref = re.search(r"REFERENCE ANSWER:\n(.*?)\n\n", inside + "\n\n", re.DOTALL)
        got = re.search(r"MODEL ANSWER:\n(.*?)(?:\n\n|\Z)", inside, re.DOTALL)
        a, b = (_num(ref.group(1)) if ref else None), (_num(got.group(1)) if got else None)
        same = told_correct or (a is not None and a == b)
        return json.dumps({"equivalent": same, "reason": "numbers compared"})
    wrong = None if told_correct else first_wrong_step(inside)
    if "first pass you only pick" in system:
        rubric_ids = re.findall(r"^([\w-]+): ", system, re.MULTILINE)
        return json.dumps({"selected": [] if told_correct else rubric_ids})
    if "Items to check:" in user:
        ids = [s.strip() for s in re.search(r"Items to check: (.*)", user).group(1).split(",")]  # type: ignore[union-attr]
        items = []
        for i in ids:
            present = i == ARITH_ITEM and wrong is not None
            items.append({"item_id": i, "present": present, "step": wrong[0] if present else None, "evidence": wrong[1] if present else ""})  # type: ignore[index]
        return json.dumps({"items": items})
    if wrong is None:
        return json.dumps({"verdict": "correct", "first_error_step": None, "explanation": "all arithmetic checks out"})
    return json.dumps({"verdict": "incorrect", "first_error_step": wrong[0], "explanation": f"{wrong[1]} is false"})


def judge_script(obey: bool = True):
    def script(body: dict[str, Any], n: int) -> Reply:
        return Reply(content=judge_answer(body, obey))

    return script
