"""The expressions of a template's `draw:` entries (templates.yaml): what a problem's numbers and words are drawn from.

A small subset of Python's expression syntax, read with `ast` and evaluated here, never by `eval`: numbers,
strings, lists, names drawn before, + - * / //, `a if x == y else b`, and calls of the functions the caller
passes (randint, choice, ...). Operands are evaluated left to right, as Python does, so the random draws
happen in the order they are written.
"""

from __future__ import annotations

import ast
import operator
from typing import Any, Callable, Mapping

from rubricate.errors import RubricateError

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv,
}
_ALLOWED = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.List, ast.BinOp, ast.Call, ast.IfExp, ast.Compare, ast.Eq, *_BINARY)


class DrawError(RubricateError):
    """A `draw:` expression of the demo's templates is not one this module evaluates."""


def parse_draw(text: str, functions: frozenset[str]) -> ast.Expression:
    """The expression, checked once when the templates load: a typo fails there, not in the middle of a run."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise DrawError(f"draw expression {text!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise DrawError(f"draw expression {text!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Call) and (not isinstance(node.func, ast.Name) or node.func.id not in functions or node.keywords):
            raise DrawError(f"draw expression {text!r}: only positional calls of {', '.join(sorted(functions))}")
        if isinstance(node, ast.Compare) and len(node.ops) != 1:
            raise DrawError(f"draw expression {text!r}: one == per comparison")
    return tree


def evaluate_draw(tree: ast.Expression, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]) -> Any:
    """The value of a parsed expression with `names` bound and `functions` callable."""

    def value(node: ast.AST) -> Any:
        match node:
            case ast.Expression(body=body):
                return value(body)
            case ast.Constant(value=v):
                return v
            case ast.Name(id=name):
                if name not in names:
                    raise DrawError(f"draw expression uses {name!r} before it is drawn")
                return names[name]
            case ast.List(elts=items):
                return [value(item) for item in items]
            case ast.BinOp(left=left, op=op, right=right):
                return _BINARY[type(op)](value(left), value(right))
            case ast.Call(func=ast.Name(id=name), args=args):
                return functions[name](*[value(arg) for arg in args])
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return value(body) if value(test) else value(orelse)
            case ast.Compare(left=left, comparators=[right]):
                return value(left) == value(right)
        raise DrawError(f"cannot evaluate {ast.dump(node)}")  # parse_draw lets nothing else through

    return value(tree)
