"""The reward rule: which stored verdict decides a trace's reward, as one pure function.

The rule, in order (every step is documented in the reason code it leaves on the row):

1. Gold answer present:
   a. the rule verifier says ``correct``                         -> correct        (source ``rules``)
   b. else the LLM verifier says ``correct``/``incorrect``       -> that verdict   (source ``llm_verifier``)
      (false-negative recovery: it only matters where the rules did not say correct)
   c. else the rule verifier says ``incorrect``                  -> incorrect      (source ``rules``)
   d. else a verifier found no final answer                      -> unscorable ``no_answer``
   e. else (verifier error, or not verified yet)                  -> unscorable ``answer_unverified``
2. No gold answer: the judge's ``correct``/``incorrect``          -> that verdict   (source ``judge``);
   a judge error or no judge verdict                              -> unscorable ``judge_error`` / ``no_judge_verdict``.
3. ``process_check``: an answer judged correct in step 1 must also pass the judge (no rubric error found);
   the judge then decides (source ``judge``, reason ``process_ok`` / ``process_error``), and a judge error
   or missing judge verdict makes the trace unscorable. A wrong answer stays wrong whatever the judge says.
4. Penalty: a scored trace that is shorter than ``penalty.min_response_chars`` or marked truncated (when
   ``penalty.truncated``) loses ``penalty.amount``.
5. Unscorable traces are ``dropped`` (stored, reward NULL, never exported) or get ``unscorable_value``.

The inputs are a handful of discrete values, so the whole rule is a finite table (`decision_table`): the
store applies it with one SQL join over the verdict tables, and the online reward calls `decide`
directly; both come from this one function, so they cannot disagree. Changing the rule and recomputing
never calls a model: it re-joins stored verdicts.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import Field

from rubricate.ids import content_hash
from rubricate.strict import Strict

AnswerVerdict = Literal["correct", "incorrect", "no_answer", "error", "missing"]
JudgeVerdict = Literal["correct", "incorrect", "error", "missing"]
ANSWER_VERDICTS: tuple[str, ...] = ("correct", "incorrect", "no_answer", "error", "missing")
JUDGE_VERDICTS: tuple[str, ...] = ("correct", "incorrect", "error", "missing")

Source = Literal["rules", "llm_verifier", "judge", "none"]
Status = Literal["scored", "unscorable", "dropped"]


class PenaltyConfig(Strict):
    """An optional penalty for very short or truncated traces (applied to scored traces only)."""

    min_response_chars: int | None = Field(default=None, ge=1)  # responses shorter than this are penalised
    truncated: bool = False  # penalise traces marked truncated (finish_reason 'length' / truncated: true)
    amount: float = Field(default=0.5, ge=0)  # subtracted from the reward


class RewardRule(Strict):
    """How stored verdicts become a reward. Hashed into every reward row (`config_hash`)."""

    correct_value: float = 1.0
    incorrect_value: float = 0.0
    use_llm_verifier: bool = True  # consult the LLM verifier where the rules did not say correct
    process_check: bool = False  # a right answer must also pass the judge (no rubric error found)
    unscorable: Literal["drop", "value"] = "drop"  # what a trace no stage could score gets
    unscorable_value: float = 0.0  # its reward when `unscorable: value` (online too, see rewards.online.unscorable)
    penalty: PenaltyConfig = PenaltyConfig()
    # Which stored verdicts count; None = each trace's most recent verdict of that kind.
    rule_verifier_id: str | None = None
    llm_verifier_id: str | None = None

    def rule_hash(self) -> str:
        return content_hash("reward-rule", self.model_dump(mode="json"))


@dataclass(frozen=True, slots=True)
class RewardInputs:
    """Everything the rule looks at for one trace, already normalised to the discrete values above."""

    has_gold: bool
    rule_verdict: str = "missing"
    llm_verdict: str = "missing"
    judge_verdict: str = "missing"
    short: bool = False
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    status: str  # scored | unscorable | dropped
    source: str  # rules | llm_verifier | judge | none
    reason: str  # a short code: rules_correct, llm_verifier_incorrect, process_error, no_answer, ...
    base_reward: float | None  # before the penalty; None when unscorable
    penalty: float
    reward: float | None  # None only when dropped

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise_answer_verdict(value: object) -> str:
    """A stored verifier verdict as one of ANSWER_VERDICTS; anything unexpected counts as an error."""
    if value is None:
        return "missing"
    v = str(value)
    return v if v in ANSWER_VERDICTS and v != "missing" else "error"


def normalise_judge_verdict(value: object) -> str:
    if value is None:
        return "missing"
    v = str(value)
    return v if v in ("correct", "incorrect", "error") else "error"


def _scored(rule: RewardRule, correct: bool, source: str, reason: str, x: RewardInputs) -> Decision:
    base = rule.correct_value if correct else rule.incorrect_value
    p = rule.penalty
    penalised = (p.min_response_chars is not None and x.short) or (p.truncated and x.truncated)
    penalty = p.amount if penalised else 0.0
    return Decision("scored", source, reason, base, penalty, base - penalty)


def _unscorable(rule: RewardRule, reason: str) -> Decision:
    if rule.unscorable == "drop":
        return Decision("dropped", "none", reason, None, 0.0, None)
    return Decision("unscorable", "none", reason, None, 0.0, rule.unscorable_value)


def _judge_decides(rule: RewardRule, x: RewardInputs, ok_reason: str, bad_reason: str) -> Decision:
    if x.judge_verdict == "correct":
        return _scored(rule, True, "judge", ok_reason, x)
    if x.judge_verdict == "incorrect":
        return _scored(rule, False, "judge", bad_reason, x)
    return _unscorable(rule, "judge_error" if x.judge_verdict == "error" else "no_judge_verdict")


def decide(x: RewardInputs, rule: RewardRule) -> Decision:
    """The reward for one trace (see the module docstring for the rule)."""
    if not x.has_gold:
        return _judge_decides(rule, x, "judge_correct", "judge_incorrect")
    llm = x.llm_verdict if rule.use_llm_verifier else "missing"
    if x.rule_verdict == "correct":
        answer_ok, source, reason = True, "rules", "rules_correct"
    elif llm in ("correct", "incorrect"):
        answer_ok, source, reason = llm == "correct", "llm_verifier", f"llm_verifier_{llm}"
    elif x.rule_verdict == "incorrect":
        answer_ok, source, reason = False, "rules", "rules_incorrect"
    elif "no_answer" in (x.rule_verdict, llm):
        return _unscorable(rule, "no_answer")
    else:
        return _unscorable(rule, "answer_unverified")
    if answer_ok and rule.process_check:
        return _judge_decides(rule, x, "process_ok", "process_error")
    return _scored(rule, answer_ok, source, reason, x)


DECISION_KEYS = ("has_gold", "rule_verdict", "llm_verdict", "judge_verdict", "short", "truncated")


def decision_table(rule: RewardRule) -> list[dict[str, Any]]:
    """`decide` over every possible input: the rule as a table the store joins against (400 rows)."""
    rows = []
    for has_gold, rv, lv, jv, short, trunc in itertools.product(
        (False, True), ANSWER_VERDICTS, ANSWER_VERDICTS, JUDGE_VERDICTS, (False, True), (False, True)
    ):
        x = RewardInputs(has_gold, rv, lv, jv, short, trunc)
        rows.append({**dict(zip(DECISION_KEYS, (has_gold, rv, lv, jv, short, trunc))), **decide(x, rule).as_dict()})
    return rows


def consults_judge(rule: RewardRule, *, has_gold: bool) -> bool:
    """Whether the judge's verdict can change the reward of a trace with (or without) a gold answer,
    read off the decision table itself so that it stays true to `decide`."""
    outcomes: dict[tuple, set[tuple]] = {}
    for row in decision_table(rule):
        if row["has_gold"] == has_gold:
            inputs = tuple(row[k] for k in DECISION_KEYS if k != "judge_verdict")
            outcomes.setdefault(inputs, set()).add((row["status"], row["source"], row["reason"], row["reward"]))
    return any(len(o) > 1 for o in outcomes.values())


def rule_markdown(rule: RewardRule) -> str:
    """The distinct outcomes of the rule (penalty inputs left out), for MLflow and the docs."""
    seen: dict[tuple, dict[str, Any]] = {}
    for row in decision_table(rule):
        if row["short"] or row["truncated"]:
            continue
        key = (row["status"], row["source"], row["reason"], row["reward"])
        seen.setdefault(key, row)
    lines = ["| has gold | rule | llm | judge | status | source | reason | reward |", "|---|---|---|---|---|---|---|---|"]
    for row in seen.values():
        lines.append(
            f"| {row['has_gold']} | {row['rule_verdict']} | {row['llm_verdict']} | {row['judge_verdict']} | "
            f"{row['status']} | {row['source']} | {row['reason']} | {row['reward']} |"
        )
    return "\n".join(lines) + "\n"
