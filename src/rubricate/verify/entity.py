"""Answers in words around one entity: "Petya wins." is the answer "Petya"; "No, it is not possible." is
"No"; "The number is odd" is "odd". Only pure text (no digits, no math) and only a short list of
predicates that restate the entity's claim: "Vasya is wrong" is not "Vasya", "Yes and no" is not "Yes".
"""

from __future__ import annotations

import re

__all__ = ["same_entity"]

_TEXT_WRAP = re.compile(r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mbox|emph)\s*\{([^{}]*)\}")
_MATHY = re.compile(r"[\d\\=<>^_{}$+*/]")
_WORD = re.compile(r"[^\W\d_]+|,")
_ARTICLES = {"a", "an", "the"}
_YES_NO = {"yes", "no"}
# What may follow the entity without changing the claim ("Petya wins", "Alice is the winner").
_PREDICATES = {
    ("wins",), ("win",), ("won",), ("will", "win"), ("can", "win"), ("is", "winner"), ("is", "right"),
    ("is", "correct"), ("is", "true"), ("wins", "game"), ("has", "winning", "strategy"), ("is", "answer"),
    ("player",), ("is", "possible"),
}
_MAX_SUBJECT_WORDS = 3


def _words(text: str) -> list[str] | None:
    t = _TEXT_WRAP.sub(r" \1 ", text)
    if _MATHY.search(t):
        return None
    words = [w.lower() for w in _WORD.findall(t)]
    words = [w for w in words if w not in _ARTICLES]
    return words if any(w != "," for w in words) else None


def same_entity(gold: str, pred: str) -> str | None:
    """A reason when one side is the other's entity stated in words; None when this rule does not apply."""
    g, p = _words(gold), _words(pred)
    if g is None or p is None:
        return None
    short, long_ = (g, p) if len(g) <= len(p) else (p, g)
    short = [w for w in short if w != ","]
    if not short or len(long_) <= len(short):
        return None
    if len(short) == 1 and short[0] in _YES_NO:
        if long_[0] == short[0] and long_[1] == ",":  # "No, it is not possible."
            return f"'{short[0]}' with its reason"
        return None
    plain = [w for w in long_ if w != ","]
    if plain[: len(short)] == short and tuple(plain[len(short):]) in _PREDICATES:
        return f"'{' '.join(short)}' stated in a sentence"
    tail = plain[-len(short) - 1 :]
    subject = plain[: -len(short) - 1]
    if tail and tail[0] in ("is", "are") and tail[1:] == short and 0 < len(subject) <= _MAX_SUBJECT_WORDS and "not" not in subject:
        return f"'{' '.join(short)}' stated in a sentence"
    return None
