"""The answer models: the schema each sends as `response_format`, and how each parses an answer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rubricate.judge.answers import CheckAnswer, PlainAnswer, SelectionAnswer
from rubricate.llm.answers import LLMAnswer
from rubricate.llm.ask import ParseFailure
from rubricate.rubric.llm_describe import DescribedError
from rubricate.rubric.naming import ItemName
from rubricate.verify.llm_addon import EquivalenceAnswer

IDS = ["arith", "cond"]
_STEP = {"type": ["integer", "null"]}
_STR = {"type": "string"}


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


# The schemas the stages sent before the models existed, written out by hand. The cache key hashes the
# schema, so an answer model must produce exactly these for earlier runs' cached answers to keep hitting.
SENT_BEFORE: list[tuple[type[LLMAnswer], dict[str, Any], dict[str, Any]]] = [
    (PlainAnswer, {}, _object(verdict={"type": "string", "enum": ["correct", "incorrect"]}, first_error_step=_STEP, explanation=_STR)),
    (SelectionAnswer, {"item_ids": IDS}, _object(selected={"type": "array", "items": {"type": "string", "enum": IDS}})),
    (CheckAnswer, {"item_ids": IDS}, _object(items={"type": "array", "items": _object(
        item_id={"type": "string", "enum": IDS}, present={"type": "boolean"}, step=_STEP, evidence=_STR)})),
    (EquivalenceAnswer, {}, _object(equivalent={"type": "boolean"}, reason=_STR)),
    (DescribedError, {}, _object(first_error_step=_STEP, description=_STR, keyword=_STR, how_to_check=_STR)),
    (ItemName, {}, _object(name=_STR, keyword=_STR, description=_STR, how_to_check=_STR)),
]


@pytest.mark.parametrize(("model", "enums", "before"), SENT_BEFORE, ids=[m.__name__ for m, _, _ in SENT_BEFORE])
def test_each_answer_sends_the_schema_it_sent_before(model, enums, before):
    assert json.dumps(model.response_schema(**enums)) == json.dumps(before)  # same keys, same order


def _self_contained_objects(node: dict[str, Any], path: str = "$") -> None:
    """A plain schema every decoder takes: no references, no unions, strict objects all the way down."""
    assert not {"$ref", "$defs", "anyOf", "oneOf", "allOf", "title", "default", "description"} & set(node), path
    if node["type"] == "object":
        assert node["required"] == list(node["properties"]) and node["additionalProperties"] is False, path
        for name, sub in node["properties"].items():
            _self_contained_objects(sub, f"{path}.{name}")
    if node["type"] == "array":
        _self_contained_objects(node["items"], f"{path}[]")


@pytest.mark.parametrize(("model", "enums", "before"), SENT_BEFORE, ids=[m.__name__ for m, _, _ in SENT_BEFORE])
def test_each_answer_schema_is_one_self_contained_object(model, enums, before):
    schema = model.response_schema(**enums)
    assert schema["type"] == "object"
    _self_contained_objects(schema)


def test_the_rubric_item_ids_are_an_enum_given_per_request_and_required():
    assert SelectionAnswer.response_schema(item_ids=["x"])["properties"]["selected"]["items"]["enum"] == ["x"]
    with pytest.raises(TypeError, match="item_ids"):
        SelectionAnswer.response_schema()
    with pytest.raises(TypeError, match="selected"):
        CheckAnswer.parse('{"items": []}', item_ids={"arith"}, n_steps=2)


def _check(text: str, selected: list[str] = IDS) -> CheckAnswer | ParseFailure:
    return CheckAnswer.parse(text, item_ids=set(IDS), n_steps=3, selected=selected)


def test_answers_are_read_as_tolerantly_as_before():
    fenced = '```json\n{"verdict": "incorrect", "first_error_step": "2", "explanation": 7, "confidence": 0.9}\n```'
    assert PlainAnswer.parse(fenced, n_steps=3).model_dump() == {"verdict": "incorrect", "first_error_step": 2, "explanation": "7"}
    # a correct verdict's step is ignored, whatever it is
    assert PlainAnswer.parse('Verdict: {"verdict": "correct", "first_error_step": "n/a"}', n_steps=3).first_error_step is None
    assert SelectionAnswer.parse('{"selected": ["cond", "arith", "cond"]}', item_ids=set(IDS)).selected == ["cond", "arith"]
    check = _check('{"items": [{"item_id": "arith", "present": true, "step": 1.0, "evidence": "3 + 4 = 8"},'
                   ' {"item_id": "cond", "present": false, "step": "none", "evidence": null},'
                   ' {"item_id": "arith", "present": true, "step": 1}]}')
    assert check.decisions(IDS, ("a", "so 3  +  4 = 8 here", "c")) == [
        {"item_id": "arith", "present": True, "step": 1, "evidence": "3 + 4 = 8", "evidence_found": True},
        {"item_id": "cond", "present": False, "step": None, "evidence": "", "evidence_found": None},
    ]
    assert EquivalenceAnswer.parse('{"equivalent": false, "reason": null}') == EquivalenceAnswer(equivalent=False, reason="")
    described = DescribedError.parse('{"first_error_step": null, "description": " Drops a sign. ", "keyword": 3}', n_steps=3)
    assert (described.description, described.keyword, described.how_to_check) == ("Drops a sign.", None, None)
    named = ItemName.parse('{"name": "Sign\\n slip", "keyword": "sign", "description": "Drops a sign.", "how_to_check": "Track signs."}')
    assert named.name == "Sign slip"


@pytest.mark.parametrize(("parse", "says"), [
    (lambda: PlainAnswer.parse("I think it is fine.", n_steps=3), "not JSON"),
    (lambda: PlainAnswer.parse('{"verdict": "maybe"}', n_steps=3), "verdict: Input should be 'correct' or 'incorrect', got 'maybe'"),
    (lambda: PlainAnswer.parse('{"verdict": "incorrect", "first_error_step": true}', n_steps=3), "first_error_step: must be a step number"),
    (lambda: PlainAnswer.parse('{"verdict": "incorrect", "first_error_step": 3}', n_steps=3), "first_error_step: 3 is outside the trace's steps 0..2"),
    (lambda: SelectionAnswer.parse('{"selected": ["arith", "made-up"]}', item_ids=set(IDS)), "selected[1]: 'made-up' is not an item of the rubric"),
    (lambda: SelectionAnswer.parse('{"selected": "arith"}', item_ids=set(IDS)), "selected: Input should be a valid list"),
    (lambda: _check('{"items": []}'), "check gives no decision; every selected item needs one (arith, cond)"),
    (lambda: _check('{"items": [{"item_id": "arith", "present": false}]}'), "no decision for selected item(s) cond"),
    (lambda: _check('{"items": [{"item_id": "cond", "present": false}]}', ["arith"]), "'cond', which was not selected"),
    (lambda: _check('{"items": [{"item_id": "arith", "present": "yes", "step": 1}]}'), "items[0].present: Input should be a valid boolean"),
    (lambda: _check('{"items": [{"item_id": "arith", "present": true}]}'), "items[0]: item arith is present but names no step"),
    (lambda: _check('{"items": [{"item_id": "arith", "present": true, "step": 1}, {"item_id": "arith", "present": false}, '
                    '{"item_id": "cond", "present": false}]}'), "decides item 'arith' twice, differently"),
    (lambda: EquivalenceAnswer.parse('{"equivalent": "yes"}'), "equivalent: Input should be a valid boolean, got 'yes'"),
    (lambda: DescribedError.parse('{"first_error_step": 1, "description": "  "}', n_steps=3), "description: is empty"),
    (lambda: DescribedError.parse('{"first_error_step": "1", "description": "x"}', n_steps=3), "first_error_step: Input should be a valid integer"),
    (lambda: ItemName.parse('{"name": "n", "keyword": "k", "description": "d"}'), "how_to_check: missing"),
])
def test_a_bad_answer_is_a_failure_that_says_what_was_wrong(parse, says):
    failure = parse()
    assert isinstance(failure, ParseFailure) and says in failure.reason, failure
