"""Stage 4: give every item a name, keyword, <= 25-word description, how-to-check and examples.

Offline namer: class-based TF-IDF keywords (each cluster's descriptions as one document, weighted
against all clusters, as BERTopic does) and the medoid examples (members closest to the centroid).
LLM namer: the item's most central members plus the nearest neighbouring items' members for contrast,
so that neighbouring names differ; an answer that does not parse falls back to the offline name and says so.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any, Sequence

import numpy as np
from pydantic import AfterValidator

from rubricate.llm.answers import LLMAnswer, Text

MAX_DESCRIPTION_WORDS = 25
NAME_PROMPT = "name_rubric_item"
# Placeholders that generalize.py puts in, and words every error description uses: never a keyword.
_NOT_KEYWORDS = frozenset(
    "something number expression variable quote step steps error errors mistake mistakes incorrect incorrectly wrong "
    "student students solution problem answer question introduced introduces introduce leads leading lead "
    "didn doesn don isn wasn weren aren hasn haven hadn won wouldn couldn shouldn".split()  # n't fragments
)


# Said in one line: the answer's line breaks and runs of spaces become single spaces.
_OneLine = Annotated[Text, AfterValidator(lambda text: " ".join(text.split()))]


class ItemName(LLMAnswer):
    """The LLM namer's answer for one rubric item."""

    name: _OneLine
    keyword: _OneLine
    description: _OneLine
    how_to_check: _OneLine


@dataclass
class ItemText:
    name: str
    keyword: str
    description: str
    how_to_check: str
    examples: list[str] = field(default_factory=list)
    named_by: str = "offline"


def cut_words(text: str, n: int = MAX_DESCRIPTION_WORDS) -> str:
    """At most `n` words: whole leading sentences when the first fits, else the first `n` words and "..."."""
    words = text.split()
    if len(words) <= n:
        return " ".join(words)
    kept: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", " ".join(words)):
        if len(" ".join([*kept, sentence]).split()) > n:
            break
        kept.append(sentence)
    return " ".join(kept) if kept else " ".join(words[:n]).rstrip(",;:") + " ..."


# What generalize.py leaves in a description: `something` where a word of the problem was (a noun, sometimes a
# verb), and typed placeholders that still read as phrases ("adds a number instead of subtracting it").
_MASKED_WORD = re.compile(r"\bsomething\b", re.IGNORECASE)
_LATEX_COMMAND = re.compile(r"\\something(?:\s*\{[^{}]*\})*", re.IGNORECASE)
OMITTED = "[…]"  # how a masked word is shown: an editor's omission mark, so the sentence reads as a quote with a gap
# How many of an item's most central members compete to give its description.
DESCRIPTION_CANDIDATES = 5


def masked_words(text: str) -> int:
    """Words of the problem that masking took out of a description."""
    return len(_MASKED_WORD.findall(text))


def readable(text: str) -> str:
    """A masked description as a person reads it: each masked word ("for the something") becomes an omission mark
    ("for the […]"), a run of them one mark, and the spaces masking left inside brackets and before "'s" go."""
    out = _LATEX_COMMAND.sub("an expression", text)  # "\something{ a number }{ a number }" was a \frac
    out = _MASKED_WORD.sub(OMITTED, out)
    out = re.sub(r"\b([Aa])n (?=\[…\])", r"\1 ", out)  # "an something" -> "a […]"
    out = re.sub(r"\[…\](?:\s*(?:,|and|or|/)?\s*(?:an?\s+|the\s+)?\[…\])+", OMITTED, out)  # "a something a something"
    out = re.sub(r"([(\[{])\s+", r"\1", out)
    out = re.sub(r"\s+([)\]}])", r"\1", out)
    out = re.sub(r"\s+'s\b", "'s", out)
    return " ".join(out.split())


def cleanest_member(texts: Sequence[str], members: np.ndarray, n: int = DESCRIPTION_CANDIDATES) -> str:
    """The item's description: its most central member, unless masking took two or more words out of it ("something
    the wrong factor between grams and something": the sentence falls apart, where one gap still reads); then the
    member among the `n` most central with the fewest masked words (ties: the more central)."""
    if not members.size:
        return ""
    candidates = [texts[j] for j in members[:n]]
    return min(enumerate(candidates), key=lambda c: (max(masked_words(c[1]), 1), c[0]))[1]


def members_by_centrality(labels: np.ndarray, similarity: np.ndarray, item: int) -> np.ndarray:
    """Indices of the item's members, most central first (ties: lower index first, for determinism)."""
    idx = np.where(labels == item)[0]
    return idx[np.lexsort((idx, -np.nan_to_num(similarity[idx], nan=-2.0)))]


def distinct(texts: Sequence[str], limit: int) -> list[str]:
    out: list[str] = []
    for t in texts:
        if t not in out:
            out.append(t)
        if len(out) == limit:
            break
    return out


def class_keywords(docs: Sequence[Sequence[str]], top: int = 5) -> list[list[str]]:
    """c-TF-IDF: top words and bigrams per class (each class = all its texts joined)."""
    if not docs:
        return []
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    stop = sorted(ENGLISH_STOP_WORDS | _NOT_KEYWORDS)
    joined = [" ".join(d) for d in docs]
    vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words=stop, token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z-]{2,}\b")
    try:
        counts = vectorizer.fit_transform(joined)
    except ValueError:  # every word was a stop word or placeholder
        return [[] for _ in docs]
    terms = vectorizer.get_feature_names_out()
    tf = np.asarray(counts.todense(), dtype=np.float64)
    tf = tf / np.maximum(tf.sum(axis=1, keepdims=True), 1.0)
    avg_words = float(np.asarray(counts.sum(axis=1)).mean())
    idf = np.log(1.0 + avg_words / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1.0))
    weights = tf * idf
    out = []
    for row in weights:
        order = np.lexsort((terms, -row))  # ties broken alphabetically: deterministic
        out.append([str(terms[i]) for i in order[:top] if row[i] > 0])
    return out


def phrase_name(keywords: list[str], taken: set[str]) -> str:
    """A short name from the keywords: the best bigram among the top three if any, else the top word. A keyword
    that repeats a word ("calculation calculation", from a description that does) never makes a name."""
    keywords = [k for k in keywords if len(set(k.lower().split())) == len(k.split())]
    if not keywords:
        name = "Uncharacterised error"
    else:
        bigrams = [k for k in keywords[:3] if " " in k]
        # a bigram reads as a name; single words read better in pairs ("Minutes / convert")
        name = (bigrams[0] if bigrams else " / ".join(keywords[:2])).capitalize()
        extra = iter(k for k in keywords if k.lower() not in name.lower())
        while name in taken:
            nxt = next(extra, None)
            name = f"{name} / {nxt}" if nxt else f"{name} ({len(taken) + 1})"
    taken.add(name)
    return name


def offline_names(
    texts: Sequence[str],
    labels: np.ndarray,
    similarity: np.ndarray,
    k: int,
    n_examples: int,
    keywords_of: Sequence[str | None] | None = None,
    checks_of: Sequence[str | None] | None = None,
) -> list[ItemText]:
    """Keyword names and descriptions for items 0..k-1: the description is the central member that masking hurt
    least (`cleanest_member`), shown `readable`, as are the examples.

    `keywords_of` / `checks_of`: per-member keyword and how-to-check when the descriptions came from an
    LLM; then the item uses its members' most common keyword and the medoid's how-to-check.
    """
    order = [members_by_centrality(labels, similarity, i) for i in range(k)]
    keywords = class_keywords([[texts[j] for j in idx] for idx in order])
    taken: set[str] = set()
    items = []
    for i, idx in enumerate(order):
        kw = keywords[i][0] if keywords[i] else "error"
        if keywords_of is not None:
            votes = Counter(str(keywords_of[j]).strip().lower() for j in idx if keywords_of[j])
            kw = votes.most_common(1)[0][0] if votes else kw
        description = cut_words(readable(cleanest_member(texts, idx)))
        check = next((str(checks_of[j]) for j in idx if checks_of is not None and checks_of[j]), None)
        items.append(
            ItemText(
                name=phrase_name(keywords[i], taken),
                keyword=kw,
                description=description,
                how_to_check=check or f'Find the first wrong step and check whether it shows "{kw}": '
                f'{description.removesuffix(" ...").rstrip(". ")}. Compare that step with the problem statement and the steps before it.',
                examples=distinct([readable(texts[j]) for j in idx], n_examples),
            )
        )
    return items


def contrast_block(texts: Sequence[str], labels: np.ndarray, similarity: np.ndarray, cents: np.ndarray, item: int, n_central: int, n_contrast: int) -> str:
    own = distinct([texts[j] for j in members_by_centrality(labels, similarity, item)], n_central)
    lines = [f"TARGET CLUSTER ({int((labels == item).sum())} descriptions):", *[f"- {t}" for t in own]]
    if n_contrast and cents.shape[0] > 1:
        sims = cents @ cents[item]
        sims[item] = -np.inf
        for rank, other in enumerate(np.argsort(-sims, kind="stable")[:n_contrast], start=1):
            theirs = distinct([texts[j] for j in members_by_centrality(labels, similarity, int(other))], 3)
            lines += ["", f"NEIGHBOUR CLUSTER {rank} (do not describe this one):", *[f"- {t}" for t in theirs]]
    return "\n".join(lines)


def llm_names(
    texts: Sequence[str],
    labels: np.ndarray,
    similarity: np.ndarray,
    cents: np.ndarray,
    fallback: list[ItemText],
    backend: Any,
    n_central: int,
    n_contrast: int,
) -> list[ItemText]:
    """LLM names for every item; an item whose answer fails keeps its offline name, marked as such."""
    from rubricate.llm.ask import ask_with_retries
    from rubricate.llm.base import LLMRequest
    from rubricate.llm.prompts import fence, load_prompt

    prompt = load_prompt(NAME_PROMPT)
    schema = ItemName.response_schema()

    def build(item: int, attempt: int) -> LLMRequest:
        fenced = fence(contrast_block(texts, labels, similarity, cents, item, n_central, n_contrast))
        return LLMRequest(
            key=f"item-{item}", messages=prompt.render(nonce=fenced.nonce, clusters=fenced.block),
            response_schema=schema, prompt_id=prompt.prompt_id, sample_index=attempt,
        )

    outcomes = ask_with_retries(backend, list(range(len(fallback))), build, lambda item, r: ItemName.parse(r.text), max_retries=1)
    named = []
    taken: set[str] = set()
    for offline, out in zip(fallback, outcomes):
        if out.value is None:
            named.append(ItemText(**{**offline.__dict__, "named_by": f"offline (llm failed: {str(out.error)[:200]})"}))
            taken.add(offline.name)
            continue
        v = out.value
        name = re.sub(r"\s+", " ", v.name)[:80]
        while name in taken:
            name = f"{name} ({len(taken) + 1})"
        taken.add(name)
        named.append(
            ItemText(
                name=name, keyword=v.keyword[:40], description=cut_words(v.description),
                how_to_check=v.how_to_check, examples=offline.examples, named_by=f"llm:{backend.model}",
            )
        )
    return named


def category_names(items: Sequence[ItemText], sizes: Sequence[int], item_category: np.ndarray) -> list[str]:
    """A name per category: its only item's name, or the keywords of its (up to three) largest items."""
    n_cat = int(item_category.max()) + 1 if len(item_category) else 0
    names: list[str] = []
    for c in range(n_cat):
        members = sorted((i for i in range(len(items)) if item_category[i] == c), key=lambda i: (-sizes[i], i))
        if len(members) == 1:
            name = items[members[0]].name
        else:
            keywords = list(dict.fromkeys(items[i].keyword.lower() for i in members))
            name = " / ".join(keywords[:3]).capitalize() + (f" (+{len(keywords) - 3})" if len(keywords) > 3 else "")
        while name in names:
            name += f" ({c + 1})"
        names.append(name)
    return names
