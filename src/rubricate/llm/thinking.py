"""Separate a reasoning model's thinking from its answer: thinking is kept, never parsed as the verdict."""

from __future__ import annotations

import re

_BLOCK = re.compile(r"<think>(.*?)</think>", re.DOTALL | re.IGNORECASE)
_OPEN = re.compile(r"<think>", re.IGNORECASE)
_CLOSE = re.compile(r"</think>", re.IGNORECASE)


def split_thinking(content: str | None, reasoning_field: str | None = None) -> tuple[str | None, str | None]:
    """(answer, reasoning) from a message's content and the provider's separate reasoning field, if any.

    Handles `<think>...</think>` blocks anywhere, a lone `</think>` (chat templates that open the block in
    the prompt, as DeepSeek-R1 and Qwen3 do: everything before it is thinking), and an unclosed `<think>`
    (the answer was cut off while thinking: the answer is empty, so a verdict parser fails on it loudly).
    """
    parts: list[str] = [reasoning_field.strip()] if reasoning_field and reasoning_field.strip() else []
    if content is None:
        return None, "\n\n".join(parts) or None
    text = content
    found = _BLOCK.findall(text)
    parts.extend(t.strip() for t in found if t.strip())
    text = _BLOCK.sub("", text)
    close = _CLOSE.search(text)
    if close:  # the opening tag was in the prompt
        parts.append(text[: close.start()].strip())
        text = text[close.end() :]
    open_ = _OPEN.search(text)
    if open_:  # thinking never closed: no answer was given
        parts.append(text[open_.end() :].strip())
        text = text[: open_.start()]
    return text.strip(), "\n\n".join(p for p in parts if p) or None
