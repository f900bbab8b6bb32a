"""What trainers hand the online reward, checked: batches as lists, responses and gold answers as text.

Trainers pass batches as lists, tuples, numpy arrays (verl's batch reward manager: `data_sources` and
`extra_infos` are object arrays) or torch tensors (numeric label columns); elements may be numpy scalars,
numpy arrays (several gold answers read from Parquet) or chat messages (TRL's conversational format).
A value that is not text is never guessed into text: `response_text` and `gold_texts` say why instead,
and the sample is unscorable (an `str(nan)` gold compared with an `str(nan)` response once scored 1.0).
Numbers are accepted as gold answers (datasets often store `5`), finite ones only.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["NotText", "as_list", "gold_texts", "plain", "response_text"]

# verl nests the gold answer in a dict sometimes: {"ground_truth": ...} / {"target": ...}
_GOLD_KEYS = ("ground_truth", "answer", "target")


class NotText(ValueError):
    """A response or gold answer that is not text (the message says what it is)."""


def plain(value: Any) -> Any:
    """numpy arrays and scalars, torch tensors: as Python lists and scalars (their `tolist()`); others unchanged."""
    if isinstance(value, (str, bytes, dict, list, tuple)) or value is None:
        return value
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        try:
            return tolist()
        except Exception:  # an object with an unrelated `tolist`: leave it to the type checks below
            return value
    return value


def as_list(value: Any, name: str) -> list[Any]:
    """A batch argument as a list (None: empty). A string, bytes or mapping is a caller's mistake: TypeError."""
    value = plain(value)
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a sequence with one entry per sample (list, tuple, numpy array); got {type(value).__name__}")
    return list(value)


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def response_text(value: Any) -> str:
    """A response as text: a string, or chat messages whose contents are strings (joined). NotText otherwise."""
    value = plain(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _content_text(value.get("content"), value)
    if isinstance(value, (list, tuple)) and value:
        return "\n".join(response_text(v) for v in value)
    raise NotText(f"response is not text: {_describe(value)}")


def _content_text(content: Any, message: Any) -> str:
    content = plain(content)
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):  # content parts: [{"type": "text", "text": "..."}]
        parts = [p.get("text") if isinstance(p, dict) else p for p in content]
        texts = [p for p in parts if isinstance(p, str)]
        if parts and len(texts) == len(parts):  # every part is text
            return "".join(texts)
    raise NotText(f"message content is not text: {_describe(message)}")


def _gold_text(value: Any) -> str:
    """One gold answer as text: a string, or a finite number (not a bool: True is no answer to anything)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        raise NotText(f"gold answer is a boolean: {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotText(f"gold answer is not a finite number: {value!r}")
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    raise NotText(f"gold answer is not text: {_describe(value)}")


def gold_texts(value: Any) -> list[str]:
    """The gold answers of one sample (several: correct if any matches; none: [] and the judge decides).

    None and blank strings mean "no gold answer"; anything that is neither text nor a finite number, in any
    position, raises NotText: a sample whose gold answer is garbage is unscorable, not judged without one.
    """
    value = plain(value)
    if value is None:
        return []
    if isinstance(value, dict):
        for key in _GOLD_KEYS:
            if key in value:
                return gold_texts(value[key])
        raise NotText(f"gold answer is a mapping without any of the keys {', '.join(_GOLD_KEYS)}: {_describe(value)}")
    if isinstance(value, (list, tuple)):
        out: dict[str, None] = {}  # ordered and deduplicated in linear time
        for v in value:
            v = plain(v)
            for g in gold_texts(v) if isinstance(v, (list, tuple, dict)) else [_gold_text(v)]:
                if g:
                    out[g] = None
        return list(out)
    g = _gold_text(value)
    return [g] if g else []
