from __future__ import annotations

import pytest

from rubricate.rubric.model import Rubric, RubricItem
from tests.judge.judge_sim import judge_script
from tests.stub_server import StubOpenAIServer


@pytest.fixture
def sim_server():
    """The stub OpenAI server answering as the arithmetic-checking judge simulator (obeys unfenced text)."""
    with StubOpenAIServer(judge_script(obey=True)) as s:
        yield s


@pytest.fixture
def rubric() -> Rubric:
    items = [
        RubricItem(item_id="arith", name="Arithmetic slip", keyword="arithmetic", description="A calculation in a step gives the wrong result.",
                   how_to_check="Recompute every calculation.", category="calculation", examples=["computes 7 * 8 = 54", "adds 12 + 9 = 20"]),
        RubricItem(item_id="cond", name="Ignores a condition", keyword="constraint", description="The solution drops a condition the problem states.",
                   how_to_check="List the problem's conditions and check each is used.", category="reading", examples=["forgets x must be positive"]),
    ]
    return Rubric(version_id="rv-test", items=items)
