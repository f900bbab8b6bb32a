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
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Sequence

from rubricate.errors import RubricateError
from rubricate.ids import text_hash

_USER_SPLIT = "\n=== user ===\n"
_PLACEHOLDER = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")
_FAKE_MARKER = re.compile(r"<<<(\s*(?:END\s+)?UNTRUSTED)", re.IGNORECASE)


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


def fence(text: str, label: str = "UNTRUSTED") -> Fenced:
    """Wrap untrusted text in markers with a nonce the text cannot know in advance.

    The nonce is a hash of the text itself, so the same text always gets the same prompt (the cache hits)
    while a forged end marker inside the text cannot carry the right nonce. Marker look-alikes in the
    text are defanged as well, so a model never sees two plausible fences.
    """
    safe = _FAKE_MARKER.sub(lambda m: "<<" + "\u2039" + m.group(1), text)
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
