"""A small synthetic set of wrong traces with three clearly different kinds of error, for rubric tests."""

from __future__ import annotations

from pathlib import Path

OBJECTS = ["apples", "bicycles", "marbles", "tickets", "cookies", "pencils", "stickers", "books", "shells", "coins",
           "balloons", "candles", "lemons", "posters", "buttons", "kites"]
NAMES = ["Ava", "Ben", "Cleo", "Dan", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jade", "Kai", "Lea", "Max", "Nia", "Omar", "Pia"]

# Words that vary a description without being in the problem (so they survive masking): distinct texts.
TAILS = ["at once", "again", "early on", "right away", "by mistake", "without checking"]

KINDS = {
    "units": "Forgot to convert minutes to hours before dividing the distance by the time for the {obj} trip of {name}.",
    "double": "Added the {obj} {name} already had a second time, counting the same quantity twice in the total.",
    "circular": "Assumed the final answer {n} for the {obj} and then used it to verify itself instead of deriving it.",
}


def synthetic_rows(per_kind: int, start: int = 0) -> list[dict]:
    rows = []
    for kind, template in KINDS.items():
        for i in range(start, start + per_kind):
            obj, name = OBJECTS[i % len(OBJECTS)], NAMES[(i * 7) % len(NAMES)]
            problem = f"{name} has {i + 3} {obj} and buys {i + 5} more. A trip takes {i + 20} minutes. How many {obj} are there?"
            rows.append(
                {
                    "id": f"{kind}-{i}",
                    "problem": problem,
                    "steps": [f"{name} starts with {i + 3} {obj}.", f"Then {name} has {2 * i + 11} {obj}.", f"The answer is {2 * i + 11}."],
                    "gold": str(2 * i + 8),
                    "correct": False,
                    "first_error": 1,
                    "kind": kind,
                    "description": template.format(obj=obj, name=name, n=2 * i + 11).rstrip(".") + f" {TAILS[i % len(TAILS)]}.",
                }
            )
    return rows



def source_config(name: str, path: Path, domain: str = "math") -> dict:
    return {
        "name": name,
        "reader": "jsonl",
        "path": str(path),
        "domain": domain,
        "fields": {
            "problem": "problem", "response": None, "steps": "steps", "gold_answer": "gold", "id": "id",
            "label_correct": "correct", "label_first_error_step": "first_error", "label_error_type": "kind",
            "label_error_description": "description",
        },
    }
