"""The LLM half of the verifier, in TinyV's "addon" mode: false-negative recovery.

The rule verdict stands when it says correct, and when it found no final answer (there is nothing to compare).
Where the rules extracted an answer and said incorrect, or failed on it, an LLM is asked one narrow question:
does the model's final answer mean the same as the gold answer for this problem? Its verdict is stored under its
own verifier id with `decided_by = 'llm'`, next to the rule row (`decided_by = 'rules'`); `final_answer_verdicts`
gives the one that stands and which stage decided.
Offline (backend `none`) nothing is asked and the rule verdict stands.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Callable

import polars as pl
from pydantic import BeforeValidator, StrictBool

from rubricate.ids import content_hash
from rubricate.llm.answers import LLMAnswer
from rubricate.llm.ask import Outcome, ask_with_retries
from rubricate.llm.base import LLMBackend, LLMRequest, TokenSpend
from rubricate.llm.prompts import fence, load_prompt
from rubricate.progress import Progress
from rubricate.store.db import utcnow
from rubricate.verify.recoverable import worth_asking
from rubricate.verify.rules import VERIFIER_ID

if TYPE_CHECKING:
    from rubricate.store import Store


class EquivalenceAnswer(LLMAnswer):
    """Does the model's final answer mean the same as the gold answer? `reason` is kept as said (any value, as text)."""

    equivalent: StrictBool
    reason: Annotated[str, BeforeValidator(lambda v: str(v or ""))] = ""


def llm_verifier_id(backend: LLMBackend, rules_verifier_id: str = VERIFIER_ID) -> str:
    """Depends on the rules it backs up, the model and the prompt: a change of any re-verifies."""
    prompt_id = load_prompt("verify_equivalence").prompt_id
    return f"{rules_verifier_id}+llm-{content_hash(backend.kind, backend.model, prompt_id, length=10)}"


@dataclass
class AddonReport(TokenSpend):
    llm_verifier_id: str | None
    n_asked: int = 0  # rule rejections sent to the LLM
    n_recovered: int = 0  # the LLM found the answer equivalent: a false negative of the rules
    n_confirmed: int = 0  # the LLM agreed with the rules
    n_error: int = 0  # no usable LLM answer: the rule verdict stands
    skipped: str | None = None
    seconds: float = 0.0
    by_rule_verdict: dict[str, int] = field(default_factory=dict)

    def progress(self) -> Progress:
        return Progress(self.n_asked, None, "rule rejections asked")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _data_block(row: dict[str, Any]) -> str:
    """The problem, the gold and the extracted answer only: never the reasoning, which could argue its own case."""
    answer = row["extracted_answer"].strip()
    return f"PROBLEM:\n{row['problem'].strip()}\n\nREFERENCE ANSWER:\n{row['gold_answer'].strip()}\n\nMODEL ANSWER:\n{answer}"


def ask_equivalence(backend: LLMBackend, rows: list[dict[str, Any]], *, max_parse_retries: int = 2) -> list[Outcome[EquivalenceAnswer]]:
    """Ask, for each row (problem, gold_answer, a non-empty extracted_answer, and a `key`), whether the answer is
    equivalent to the gold. One batch; `Outcome.value` is the answer or None with the error.
    Used by the stored verifier stage and by the online reward, so both send the same requests and share the cache.
    """
    prompt = load_prompt("verify_equivalence")
    schema = EquivalenceAnswer.response_schema()

    def build(row: dict[str, Any], attempt: int) -> LLMRequest:
        fenced = fence(_data_block(row))
        return LLMRequest(
            key=f"{row.get('trace_id') or row.get('key')}:verify#{attempt}", messages=prompt.render(nonce=fenced.nonce, data=fenced.block),
            response_schema=schema, prompt_id=prompt.prompt_id, sample_index=attempt, temperature=0.7 if attempt else None,
        )

    return ask_with_retries(backend, rows, build, lambda row, resp: EquivalenceAnswer.parse(resp.text), max_parse_retries)


def recover_false_negatives(
    store: "Store",
    backend: LLMBackend,
    *,
    rules_verifier_id: str = VERIFIER_ID,
    max_parse_retries: int = 2,
    batch_size: int = 2000,
    progress: Callable[[AddonReport], None] | None = None,
) -> AddonReport:
    """Ask the LLM about every rule rejection that has no LLM verdict yet; store the answers."""
    t0 = time.perf_counter()
    if backend.kind == "none":
        return AddonReport(llm_verifier_id=None, skipped="llm.kind is 'none': the rule verdicts stand")
    verifier_id = llm_verifier_id(backend, rules_verifier_id)
    report = AddonReport(llm_verifier_id=verifier_id)
    rows = store.frame("verify/select_rule_rejections", {"rules_verifier_id": rules_verifier_id, "llm_verifier_id": verifier_id}).to_dicts()
    rows = [r for r in rows if worth_asking(r["gold_answer"], r["extracted_answer"])]
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        outcomes = ask_equivalence(backend, chunk, max_parse_retries=max_parse_retries)
        out = []
        for row, o in zip(chunk, outcomes):
            report.n_asked += 1
            report.by_rule_verdict[row["rule_verdict"]] = report.by_rule_verdict.get(row["rule_verdict"], 0) + 1
            report.add_spend(o)
            rules_said = f"rules said {row['rule_verdict']}: {row['rule_reason']}"
            if o.value is None:
                report.n_error += 1
                verdict, reason = "error", f"llm gave no usable answer after {o.attempts} attempt(s): {o.error}; {rules_said}"
            else:
                why = o.value.reason[:500]
                if o.value.equivalent:
                    report.n_recovered += 1
                    verdict, reason = "correct", f"llm: equivalent ({why}); {rules_said}"
                else:
                    report.n_confirmed += 1
                    verdict = "incorrect"  # only rejections with an extracted answer are asked (worth_asking)
                    reason = f"llm: not equivalent ({why}); {rules_said}"
            out.append({
                "trace_id": row["trace_id"], "verifier_id": verifier_id, "extracted_answer": row["extracted_answer"],
                "verdict": verdict, "reason": reason[:2000], "decided_by": "llm", "elapsed_ms": None, "created_at": utcnow(),
            })
        frame = pl.DataFrame(out, schema={"trace_id": pl.Utf8, "verifier_id": pl.Utf8, "extracted_answer": pl.Utf8, "verdict": pl.Utf8,
                                          "reason": pl.Utf8, "decided_by": pl.Utf8, "elapsed_ms": pl.Float64, "created_at": pl.Datetime("us")})
        store.insert_frame("verify/upsert_llm_answer_verdicts", frame)
        if progress:
            progress(report)
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


def final_answer_verdicts(store: "Store", llm_verifier: str | None, rules_verifier_id: str = VERIFIER_ID) -> pl.DataFrame:
    """trace_id, verdict, decided_by (rules | llm), rule_verdict, llm_verdict, reason: the verdict that stands."""
    return store.frame("verify/select_final_answer_verdicts", {"rules_verifier_id": rules_verifier_id, "llm_verifier_id": llm_verifier or ""})
