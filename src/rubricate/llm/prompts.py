"""Prompt templates live in files under rubricate/prompts/ and are identified by the hash of their text.

A template file holds the system message, a line `=== user ===`, then the user message. Placeholders are
`{{name}}`, filled in one pass (text put in is never scanned for placeholders again, so a trace that
contains `{{rubric}}` stays as it is). Shared parts (instructions, rubric) belong in the system message
and the trace last in the user message, so automatic prefix caching is hit across a batch.

Untrusted text (a trace, a problem, a model's answer) goes in through `fence()`: it is wrapped in
markers that carry a nonce derived from the text itself, which text inside the fence cannot forge.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Sequence

from rubricate.errors import RubricateError
from rubricate.ids import text_hash

_USER_SPLIT = "\n=== user ===\n"
_PLACEHOLDER = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")
# A fence marker as a reader perceives it, matched on the folded text (see `_fold`): three '<' (spaces
# between them allowed), an optional END, then the label word.
_MARKER_SHAPE = r"<[ \t]*<[ \t]*<\s*(END\s+)?{label}"


class PromptError(RubricateError):
    """A prompt template is missing or is filled with the wrong fields."""


@dataclass(frozen=True)
class Prompt:
    name: str
    system: str
    user: str
    prompt_id: str  # hash of the file's text: stored with every result made with it

    @property
    def fields(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.system)) | set(_PLACEHOLDER.findall(self.user))

    def render(self, **values: str) -> tuple[dict[str, str], ...]:
        """(system, user) chat messages with every placeholder filled."""
        missing = self.fields - set(values)
        if missing:
            raise PromptError(f"prompt '{self.name}' needs {sorted(missing)}; pass them to render()")
        return (
            {"role": "system", "content": _fill(self.system, values)},
            {"role": "user", "content": _fill(self.user, values)},
        )


def _fill(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template)


@cache
def load_prompt(name: str) -> Prompt:
    """The template `rubricate/prompts/<name>.md`."""
    path = resources.files("rubricate") / "prompts" / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"no prompt file prompts/{name}.md in the rubricate package; add it or fix the name")
    text = path.read_text(encoding="utf-8")
    if _USER_SPLIT not in text:
        raise PromptError(f"prompts/{name}.md has no line '=== user ===' separating the system and user messages")
    system, user = text.split(_USER_SPLIT, 1)
    return Prompt(name=name, system=system.strip(), user=user.strip(), prompt_id=text_hash(text))


def combined_prompt_id(*prompts: Prompt) -> str:
    """One id for a judge that uses several templates (the rubric judge's two passes)."""
    return text_hash("|".join(p.prompt_id for p in prompts))


@dataclass(frozen=True)
class Fenced:
    nonce: str
    begin: str
    end: str
    block: str  # begin marker, the text, end marker


# Characters that render as nothing (or as blank) but that a model still reads: zero-width spaces and
# joiners, bidi controls, soft hyphens, Unicode tag characters ("ASCII smuggling"): all category Cf, plus
# the invisible letters below. They are removed from untrusted text altogether.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u17b4\u17b5")

# Look-alikes of the characters a marker is made of, from Unicode's confusables list (NFKC folds the
# full-width and small forms already). Only the marker's characters matter: this is not a general skeleton.
_CONFUSABLES = {
    **dict.fromkeys("\u2039\u276e\u2329\u3008\u27e8\u02c2\u1438\u16b2\u1444\u2aa1\u227a", "<"),
    **dict.fromkeys("\u203a\u276f\u232a\u3009\u27e9\u02c3\u1433\u1433\u2aa2\u227b", ">"),
    "\u00ab": "<<", "\u00bb": ">>", "\u226a": "<<", "\u226b": ">>", "\u22d8": "<<<", "\u22d9": ">>>",
    **dict.fromkeys("\u0395\u0415\u13ac\u2d39\u1d07\u0435\u04bd\u03b5", "e"),
    **dict.fromkeys("\u039d\u1d0e\u0274\u0578\u03b7", "n"),
    **dict.fromkeys("\u13a0\u15de\u1d05\u0501\u217e", "d"),
    **dict.fromkeys("\u054d\u1d1c\u222a\u22c3\u03c5\u057d\u028b", "u"),
    **dict.fromkeys("\u03a4\u0422\u13a2\u1d1b\u03c4\u0442", "t"),
    **dict.fromkeys("\u13a1\u15c7\u01a6\u0280\u0433\u1d26", "r"),
    **dict.fromkeys("\u0405\u13da\u054f\ua731\u0455\u01bd", "s"),
}


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" or ch in _INVISIBLE_LETTERS


def _fold(ch: str) -> str:
    """How a reader perceives one character, for finding marker look-alikes: NFKC, then confusables,
    then without accents. Combining marks (a strike-through, an accent on its own) vanish."""
    if unicodedata.category(ch) in ("Mn", "Me"):
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        c = _CONFUSABLES.get(c, c)
        out.append("".join(b for b in unicodedata.normalize("NFKD", c) if not unicodedata.combining(b)))
    return "".join(out)


def _defang_markers(text: str, label: str) -> str:
    """Replace everything a reader could take for a fence marker (`<<<label`, `<<<END label`), in any
    disguise `_fold` sees through, by a form no reader takes for one (`[[[END label`)."""
    folded: list[str] = []
    origin: list[int] = []  # index in `text` of each folded character
    for i, ch in enumerate(text):
        for c in _fold(ch):
            folded.append(c)
            origin.append(i)
    pattern = re.compile(_MARKER_SHAPE.format(label=re.escape(label)), re.IGNORECASE)
    pieces, last = [], 0
    for m in pattern.finditer("".join(folded)):
        start, end = origin[m.start()], origin[m.end() - 1] + 1
        pieces += [text[last:start], "[[[" + ("END " if m.group(1) else "") + label]
        last = end
    return "".join(pieces) + text[last:] if pieces else text


def fence(text: str, label: str = "UNTRUSTED") -> Fenced:
    """Wrap untrusted text in markers with a nonce the text cannot know in advance.

    The nonce is a hash of the text itself, so the same text always gets the same prompt (the cache hits)
    while a forged end marker inside the text cannot carry the right nonce. Before that the text is
    normalised: invisible characters (zero-width, bidi controls, tag characters) are removed, and every
    marker look-alike (full-width or Cyrillic letters, '‹' for '<', zero-width characters inside) is
    defanged, so a model never sees two plausible fences. The rest of the text keeps its characters
    (NFKC is used to find markers only: applied to all of it, it would turn x² into x2).
    """
    visible = "".join(ch for ch in text if not _invisible(ch))
    safe = _defang_markers(visible, label)
    nonce = text_hash(safe, length=12)
    begin = f"<<<{label} {nonce}>>>"
    end = f"<<<END {label} {nonce}>>>"
    return Fenced(nonce=nonce, begin=begin, end=end, block=f"{begin}\n{safe}\n{end}")


def number_steps(steps: Sequence[str]) -> str:
    """Steps as `[step 0] ...` lines (0-based, the numbering every stored result uses)."""
    return "\n\n".join(f"[step {i}] {s.strip()}" for i, s in enumerate(steps))


def fence_trace(problem: str, steps: Sequence[str]) -> Fenced:
    """The problem and the numbered steps of a trace, fenced as one block of data."""
    return fence(f"PROBLEM:\n{problem.strip()}\n\nSOLUTION STEPS:\n{number_steps(steps)}")
