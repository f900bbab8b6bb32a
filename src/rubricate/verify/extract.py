"""Find the final answer in a model response: pure, regex-only, no math parsing.

Order of evidence (the first that yields an answer wins):

0. GSM8K's answer line, ``#### X``, when it is the response's last line.
1. ``\\boxed{...}`` / ``\\fbox{...}``: the last one (nested braces handled); boxes that follow each other
   with only a connector between them ("\\boxed{1} and \\boxed{2}") are joined into one list answer. The
   other boxes written differently are kept beside it (``alternatives``): a response that boxes "4" and then
   "5" has hedged, which the verdict decides. Unclosed boxes (truncated output) are skipped, in one pass.
2. An answer phrase: "the answer is X", "Answer: X", "final answer: X" (the last occurrence).
3. A multiple-choice letter: "Option D", "choice (B)", or a last line that is only "(C)".
4. The last sentence: its last math segment (``$...$``, ``\\(...\\)``, ``\\[...\\]``), else what follows
   its last " is ", else the last number in it; for a short response, the whole of it.
5. The last number anywhere.

Reasoning inside ``<think>...</think>`` is ignored when a final part follows it, and chat-template
tokens (``<|im_start|>`` ...) end the response: models often run on into a new turn after them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from rubricate.verify.normalize import normalize_answer

__all__ = ["Extraction", "extract_final_answer", "find_boxed", "strip_math_delimiters"]


@dataclass(frozen=True, slots=True)
class Extraction:
    answer: str | None
    method: str  # final_mark | boxed | answer_phrase | choice | bare_answer | last_sentence | short_response | last_number | none
    # Other final answers the response offers beside `answer`, written differently (at most _MAX_OTHER_BOXES,
    # first seen first): earlier boxes ("\\boxed{4}. Hmm, maybe \\boxed{5}") and an alternative right after
    # the box ("\\boxed{5} (or 3)"). Whether they mean the same is for the verdict to decide (rules.py).
    alternatives: tuple[str, ...] = ()


_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)
_SPECIAL_TOKEN = re.compile(r"<\|(?:im_start|im_end|endoftext|eot_id|end_of_text|start_header_id|end_header_id|eom_id)\|>")
_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*(?=[{\s])")
# Boilerplate that follows answers in many model outputs ("I hope it is correct.").
_BOILERPLATE = re.compile(r"(?<!\s)\s*(?:I hope (?:it|this) is correct|I hope this helps)\b.*$", re.IGNORECASE | re.DOTALL)
_ANSWER_PHRASE = re.compile(
    r"(?:final\s+answer|the\s+answer|correct\s+answer|answer)\s*(?:\*\*|__)?\s*"
    r"(?:is\s*:?|:|=|would\s+be\s*:?|will\s+be\s*:?)\s*(?:\*\*|__)?",
    re.IGNORECASE,
)
# GSM8K's answer line, "#### 72", as the response's last line: the answer its format states. Only the last line
# and only a short value, so a Markdown heading ("#### Step 2: ...") mid-response is never read as an answer.
_FINAL_MARK_LINE = re.compile(r"(?:^|\n)[ \t]*####[ \t]+([^\n#]{1,60}?)[ \t]*\Z")
_CHOICE_WORD = re.compile(r"\b(?:option|choice)\s*[:\s]?\s*\(?([A-J])\)?(?![A-Za-z])", re.IGNORECASE)
_CHOICE_ONLY = re.compile(r"^\s*(?:\*\*)?\s*\(?\s*([A-J])\s*\)?\s*[.:]?\s*(?:\*\*)?\s*$")
# A letter at the start of an answer followed by the option's text: "(B) 12", "C) 5", "D. none".
_CHOICE_LEAD = re.compile(r"^\s*(?:\(([A-J])\)|([A-J])[.):])(?:\s+\S.*)?$", re.DOTALL)
_MATH_SEGMENT = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*(?:\s*\\?%)?|(?<![\w.])-?\.\d+")
_SENTENCE_END = re.compile(r"(?<!\d)[.!?](?=\s|$)|(?<=\d)\.(?=\s+[A-Z]|\s*$)|\n\s*\n")
_IS_WORD = re.compile(r"\s(?:is|are|equals|was|be|=)\s", re.IGNORECASE)
_WORDS = re.compile(r"[A-Za-z]{2,}")
_MATHY = re.compile(r"\d|\\[A-Za-z]|^\(?[A-J]\)?$")
_LEAD_WORDS_NUMBER = re.compile(r"^[A-Za-z]+(?:\s+[A-Za-z]+)?\s*[:,]?\s+(-?\d[\d.,/]*)$")
_QUOTES = re.compile(r'\\?["“”]')
_MARKDOWN = re.compile(r"\*\*|__|`")
# Text between two boxes that still lets them form one answer: "and", "or", ",", "\quad", short labels.
_CONNECTOR_DECOR = re.compile(r"\\text\s*\{([^{}]*)\}|\\(?:quad|qquad|,|;|:|!| )|\$|\\\(|\\\)|\\\[|\\\]|[\s,;.&~]")
_CONNECTOR_TAIL = re.compile(r"(?:^|\s)(?:and|or)$|^$", re.IGNORECASE)
# "... \boxed{a} and y_2 = \boxed{b}": the label before the next box is not part of the connector.
_TRAILING_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_{}\\^]*\s*=\s*$")
_LEADING_LABEL = re.compile(r"^[^\W\d_][^\d:=$]{0,30}:\s+(?=\S)")

SHORT_RESPONSE_CHARS = 60
_BARE_ANSWER_CHARS = 400
_BARE_ANSWER_WORDS = 5
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_TEXT_GROUP = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mbox|operatorname)\s*\{[^{}]*\}")
# Words that make a short response a sentence about an answer rather than the answer itself.
_SENTENCE_WORDS = frozenset(
    "is are was were be been being equals equal so thus therefore hence we i you get gets got gives give find "
    "found answer then it this that which there here maybe perhaps probably would should could will can cannot "
    "do does did know sure".split()
)
_MAX_OTHER_BOXES = 8
_OTHER_BOXES_LOOKED_AT = 64
_TAIL_CHARS = 4000  # an answer sentence is never longer; bounds the work on 1 MB responses


def extract_final_answer(response: str) -> Extraction:
    """The final answer written in `response`, and which rule found it."""
    if not response or not response.strip():
        return Extraction(None, "none")
    text = _final_part(response)

    mark = _FINAL_MARK_LINE.search(text.rstrip())
    if mark and not _BOX_START.search(mark.group(1)):
        value = mark.group(1).strip()
        answer, method = (_choice_letter(value), "choice") if _choice_letter(value) else (value, "final_mark")
        boxed = find_boxed(text)  # a box that says otherwise is a second final answer: the verdict sees a hedge
        return Extraction(answer, method, (boxed,) if boxed is not None and boxed != answer else ())

    boxes = _boxes(text)
    phrase = _answer_phrase(text)
    if boxes:
        # The box wins unless a later answer phrase states a (mathematical) answer of its own:
        # "... \boxed{255}. ... Final Answer: The final answer is $10,455$". ("the answer is consistent"
        # after a box is not an answer.)
        phrase_at = _last_phrase_start(text)
        later = phrase is not None and phrase_at is not None and phrase_at >= boxes[-1][1] and _MATHY.search(phrase)
        if not later:
            group = _final_group(text, boxes)
            boxed = _joined(group)
            if boxed is not None:
                return Extraction(boxed, "boxed", _alternatives(boxes, group) + _trailing_alternative(text, group[-1][1]))
    if phrase is not None:
        letter = _choice_letter(phrase)
        return Extraction(letter, "choice") if letter else Extraction(phrase, "answer_phrase")

    choice = _choice_anywhere(text)
    if choice is not None:
        return Extraction(choice, "choice")

    tail = _BOILERPLATE.sub("", text).strip()
    bare = _bare_answer(tail)
    if bare:
        return Extraction(bare, "bare_answer")
    if tail and len(tail) <= SHORT_RESPONSE_CHARS and "\n\n" not in tail:
        short = _from_sentence(tail, whole_if_plain=True)
        if short:
            return Extraction(short, "short_response")
    sentence = _last_sentence(tail)
    if sentence:
        found = _from_sentence(sentence, whole_if_plain=False)
        if found:
            return Extraction(found, "last_sentence")
    numbers = _NUMBER.findall(tail)
    if numbers:
        return Extraction(numbers[-1].strip(), "last_number")
    return Extraction(None, "none")


# -- the part of the response that holds the answer ----------------------------------------------


def _final_part(response: str) -> str:
    text = response
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        after = text[closes[-1].end():]
        if after.strip():
            text = after
        else:  # nothing after the reasoning: the answer, if any, is inside it
            text = _THINK_OPEN.sub("", _THINK_CLOSE.sub("", text))
    elif _THINK_OPEN.search(text):  # unclosed (truncated) reasoning block
        text = _THINK_OPEN.sub("", text)
    stripped = text.lstrip()
    while True:  # leading template tokens ("<|im_start|>assistant") are not the end of the answer
        m = _SPECIAL_TOKEN.match(stripped)
        if not m:
            break
        stripped = stripped[m.end():].lstrip()
        if stripped.lower().startswith("assistant"):
            stripped = stripped[len("assistant"):].lstrip()
    m = _SPECIAL_TOKEN.search(stripped)
    if m:
        stripped = stripped[: m.start()]
    return stripped.strip()


# -- boxed ---------------------------------------------------------------------------------------


def _brace_partners(text: str) -> dict[int, int]:
    """Index of each '{' -> index of the '}' that closes it, for the whole text in one pass (an unclosed
    brace has no entry). One pass, not a scan per box: a response of many unclosed boxes stays linear."""
    partners: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE.finditer(text):
        if m.group(0) == "{":
            stack.append(m.start())
        elif m.group(0) == "}" and stack:
            partners[stack.pop()] = m.start()
    return partners


_BOX_TOKEN = re.compile(r"[^\s$.,;]+")
_BRACE = re.compile(r"\\[{}]|[{}]")  # an escaped brace (\{ \}) is content, not structure


def _boxes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of every complete \\boxed{...} / \\fbox{...}; also '\\boxed 5'. An unclosed box
    (truncated output) is skipped."""
    found: list[tuple[int, int, str]] = []
    partners: dict[int, int] | None = None
    pos = 0
    n = len(text)
    while True:
        m = _BOX_START.search(text, pos)
        if not m:
            return found
        j = m.end()
        while j < n and text[j] == " ":
            j += 1
        if j < n and text[j] == "{":
            if partners is None:
                partners = _brace_partners(text)
            close = partners.get(j)
            if close is None:
                pos = j + 1
                continue
            found.append((m.start(), close + 1, text[j + 1 : close]))
            pos = close + 1
        else:  # "\\boxed 5": one token
            tok = _BOX_TOKEN.match(text, j)
            if tok:
                found.append((m.start(), tok.end(), tok.group(0)))
                pos = tok.end()
            else:
                pos = j + 1


def _is_connector(between: str) -> bool:
    """True when the text between two boxes only links them ("and", ",", "\\quad", "for part (a) and")."""
    words = _CONNECTOR_DECOR.sub(lambda m: f" {m.group(1)} " if m.group(1) else " ", between)
    words = _TRAILING_LABEL.sub("", words.strip())
    words = " ".join(words.split())
    if len(words.split()) > 4:
        return False
    return bool(_CONNECTOR_TAIL.search(words))


def _final_group(text: str, boxes: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The last box and the boxes directly before it that only connectors separate from it."""
    group = [boxes[-1]]  # built backwards, from the last box
    for prev in reversed(boxes[:-1]):
        if _is_connector(text[prev[1] : group[-1][0]]):
            group.append(prev)
        else:
            break
    group.reverse()
    return group


def _joined(group: list[tuple[int, int, str]]) -> str | None:
    parts = [c.strip() for _, _, c in group if c.strip()]
    if not parts:
        return None
    return ", ".join(parts) if len(parts) > 1 else parts[0]


def _alternatives(boxes: list[tuple[int, int, str]], group: list[tuple[int, int, str]]) -> tuple[str, ...]:
    """Contents of the boxes outside the final group that are not written like one of its items."""
    final = {normalize_answer(c) for _, _, c in group}
    seen: set[str] = set()
    others: list[str] = []
    earlier = boxes[: len(boxes) - len(group)][-_OTHER_BOXES_LOOKED_AT:]  # bounded work on 20,000 boxes
    for _, _, content in earlier:
        key = normalize_answer(content)
        if not key or key in final or key in seen:
            continue
        seen.add(key)
        others.append(content.strip())
        if len(others) >= _MAX_OTHER_BOXES:
            break
    return tuple(others)


# "\\boxed{5} (or 3)", "$\\boxed{5}$, or maybe 3": an alternative offered right after the final box
_TRAILING_OR = re.compile(
    r"^[\s$.,;]*\(?\s*(?:\\text\s*\{\s*)?\(?\s*or\s+(?:maybe\s+|perhaps\s+|possibly\s+)?\$?([^()$\n]{1,40}?)\$?\s*\)?\s*\}?\s*\)?[\s.,;?!]*$",
    re.IGNORECASE,
)


def _trailing_alternative(text: str, end: int) -> tuple[str, ...]:
    m = _TRAILING_OR.match(text[end : end + 80])
    if m and m.group(1).strip() and re.search(r"\d", m.group(1)):
        return (m.group(1).strip(),)
    return ()


def find_boxed(text: str, boxes: list[tuple[int, int, str]] | None = None) -> str | None:
    """Content of the last box, joined with the boxes directly before it when only connectors separate them."""
    boxes = _boxes(text) if boxes is None else boxes
    if not boxes:
        return None
    return _joined(_final_group(text, boxes))


# -- answer phrases and choice letters ------------------------------------------------------------


def _last_phrase_start(text: str) -> int | None:
    last = None
    for m in _ANSWER_PHRASE.finditer(text):
        last = m.start()
    return last


def _answer_phrase(text: str) -> str | None:
    matches = list(_ANSWER_PHRASE.finditer(text))
    for m in reversed(matches):
        rest = text[m.end() : m.end() + _TAIL_CHARS]  # bounded: many phrases with nothing after them stay linear
        line = rest.split("\n", 1)[0].strip()
        if not line and "\n" in rest:  # "Final Answer:\n 42"
            line = next((ln.strip() for ln in rest.split("\n")[1:] if ln.strip()), "")
        line = _BOILERPLATE.sub("", _MARKDOWN.sub("", line)).strip()
        line = _first_sentence(line)
        if not line:
            continue
        return _shorten_phrase(line)
    return None


def _shorten_phrase(phrase: str) -> str:
    """'The volume of $ABC$ is 120' -> '120'; '$12$ and $13$' -> '12 and 13'."""
    phrase = _QUOTES.sub("", phrase).strip().rstrip(".").strip()
    unboxed = strip_math_delimiters(phrase)
    if _BOX_START.match(unboxed):  # an unclosed box (a stray brace, a truncated output): keep what it holds
        phrase = unboxed[unboxed.index("{") + 1 :] if "{" in unboxed else unboxed
        phrase = phrase.rstrip("$ .").rstrip()
        if phrase.count("}") > phrase.count("{"):
            phrase = phrase[: phrase.rindex("}")].rstrip()
        return phrase  # the box's content is the answer as written
    plain = _MATH_SEGMENT.sub(" MATH ", phrase)
    numbers = _NUMBER.findall(plain)
    if len(_WORDS.findall(plain)) >= 4 and len(numbers) == 1 and "MATH" not in plain:
        return numbers[0].strip()  # "Jane started growing Sphere 3 hours ago" -> 3
    if _IS_WORD.search(plain) and len(_WORDS.findall(plain)) > 1:
        cut = list(_IS_WORD.finditer(phrase))
        if cut:
            tail = phrase[cut[-1].end():].strip()
            if tail:
                phrase = tail
    return strip_math_delimiters(phrase) or phrase


def _choice_letter(answer: str) -> str | None:
    a = strip_math_delimiters(answer).strip()
    a = re.sub(r"^\\text(?:bf)?\s*\{(.*)\}$", r"\1", a).strip()
    m = _CHOICE_ONLY.match(a) or _CHOICE_LEAD.match(a)
    if m:
        return next(g for g in m.groups() if g)
    m = _CHOICE_WORD.match(a)
    if m:
        return m.group(1).upper()
    return None


def _choice_anywhere(text: str) -> str | None:
    last_line = next((ln for ln in reversed(text.splitlines()) if ln.strip()), "")
    m = _CHOICE_ONLY.match(_MARKDOWN.sub("", last_line))
    if m:
        return m.group(1)
    matches = list(_CHOICE_WORD.finditer(text))
    if matches:
        return matches[-1].group(1).upper()
    return None


# -- sentences ------------------------------------------------------------------------------------


def _sentence_ends(text: str) -> list[int]:
    """Positions just after each sentence end outside math segments."""
    segments = list(_MATH_SEGMENT.finditer(text))
    starts = [m.start() for m in segments]
    ends = []
    for m in _SENTENCE_END.finditer(text):
        k = bisect_right(starts, m.start()) - 1  # the math segment starting last before this mark
        if k >= 0 and m.start() < segments[k].end():
            continue
        ends.append(m.end())
    # A displayed formula ($$...$$, \[...\]) closes its sentence even without a period after it.
    ends.extend(m.end() for m in segments if m.group(1) is not None or m.group(4) is not None)
    return sorted(set(ends))


def _first_sentence(text: str) -> str:
    ends = _sentence_ends(text)
    return text[: ends[0]].strip() if ends else text.strip()


def _last_sentence(text: str) -> str:
    body = text.rstrip()[-_TAIL_CHARS:]
    ends = [e for e in _sentence_ends(body) if e < len(body.rstrip(".!? \n"))]
    return body[ends[-1]:].strip() if ends else body.strip()


def _prose_words(text: str) -> list[str]:
    """Words of two letters or more outside LaTeX commands and \\text{...} groups (units, labels)."""
    return _WORDS.findall(_LATEX_COMMAND.sub(" ", _TEXT_GROUP.sub(" ", text)))


def _bare_answer(tail: str) -> str | None:
    """The whole response when it is just an answer, not a sentence about one: "(-\\sqrt{11}, -2) \\cup
    (\\sqrt{11}, 9)", "\\dfrac{41}{12} \\text{ km}", "7 goats and 4 helicopters" (a bare answer is the
    whole answer, not its last number). A sentence word ("is", "so", "we", ...) or prose around a math
    segment makes it a sentence, read by the rules below."""
    if not tail or "\n\n" in tail or len(tail) > _BARE_ANSWER_CHARS:
        return None
    body = _LEADING_LABEL.sub("", tail.strip().rstrip(".").strip())  # "Answer: 5", "Soucis : 2,74 a"
    segments = list(_MATH_SEGMENT.finditer(body))
    if segments:
        outside = _MATH_SEGMENT.sub(" ", body)
        if _prose_words(outside) or len(segments) > 1:
            return None
    words = [w.lower() for w in _prose_words(strip_math_delimiters(body))]
    if len(words) > _BARE_ANSWER_WORDS or any(w in _SENTENCE_WORDS for w in words):
        return None
    if _CHOICE_ONLY.match(body):
        return None  # "(C)": a choice letter, for the choice rule
    return strip_math_delimiters(body) or None


def _from_sentence(sentence: str, *, whole_if_plain: bool) -> str | None:
    segments = [next(g for g in m.groups() if g is not None) for m in _MATH_SEGMENT.finditer(sentence)]
    segments = [s.strip() for s in segments if s and s.strip()]
    if segments:
        return segments[-1]
    sentence = _LEADING_LABEL.sub("", sentence.strip().rstrip(".").strip())
    if whole_if_plain and len(_WORDS.findall(sentence)) <= 2:
        m = _LEAD_WORDS_NUMBER.match(sentence)
        if m:  # "so 5", "Answer 9": the words lead up to the number
            return m.group(1)
        return strip_math_delimiters(sentence) or None
    cut = list(_IS_WORD.finditer(sentence))
    if cut:
        tail = sentence[cut[-1].end():].strip()
        # "... is 12 apples" or "... is Evelyn"; not "... to be counted at all here"
        short = len(tail.split()) <= 4 or (not _prose_words(tail) and len(tail) <= _BARE_ANSWER_CHARS)
        if tail and short and (re.search(r"\d|\\", tail) or len(tail.split()) <= 2):
            return tail
    numbers = _NUMBER.findall(sentence)
    if numbers:
        return numbers[-1].strip()
    # a short plain phrase is a text answer ("Evelyn", "odd", "not possible"); a sentence is not
    return sentence if whole_if_plain and sentence and len(sentence.split()) <= 3 else None


def strip_math_delimiters(text: str) -> str:
    """Remove $...$, $$...$$, \\(...\\), \\[...\\] delimiters (keeping what they hold) and stray '$'."""
    t = text.strip()
    t = re.sub(r"\\[()\[\]]", " ", t)
    t = re.sub(r"(?<!\\)\$", " ", t)
    return " ".join(t.split())
