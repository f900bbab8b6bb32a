"""Which rule rejections the LLM half may look at: where a false negative is possible at all.

Shared by the stored LLM verifier (rubricate.verify.llm_addon) and the online reward, and kept free of heavy
imports because the online reward imports it in a trainer's process.
"""

from __future__ import annotations

import re

_CHOICE = re.compile(r"\(?[A-Ja-j]\)?")


def worth_asking(gold: str | None, extracted: str | None) -> bool:
    """Whether a rule rejection can be a false negative an LLM could recover. Not when the rules found no answer
    (nothing to compare) and not when both sides are choice letters: two different letters are different answers
    for certain, and a small model was seen calling "(D)" the same as "(B)" (`make demo-llm`)."""
    answer, gold = (extracted or "").strip(), (gold or "").strip()
    return bool(answer) and not (_CHOICE.fullmatch(answer) and _CHOICE.fullmatch(gold))
