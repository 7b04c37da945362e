"""Keeping reasoning-gym's scorers from executing miners' answers, and its calls from
leaking state into each other.

Some reasoning-gym 0.1.25 scorers call ``eval(answer)`` or
``sympy.parse_expr(answer)`` on the model's answer, i.e. they would run any
Python a miner writes, inside the validator. Two guards:

* :func:`harden_literal_scorers` shadows the builtin ``eval`` *in those modules
  only* with :func:`literal_only_eval`, which accepts Python literals (what the
  scorers expect: ``[1, 2]``, ``[['Q', '_']]``) and raises ``ValueError``
  otherwise; the scorers already treat a raising ``eval`` as a wrong answer.
* :func:`check_expression` accepts only arithmetic over numbers, names and an
  allow-list of math functions before an answer may reach ``parse_expr``.

And :func:`pristine_decimals` gives every generation and scoring call Python's
default decimal context: ``decimal_arithmetic`` sets the thread's
``getcontext().prec`` to each task's precision, so without it the tasks and
scores of any dataset using ``Decimal`` would depend on what the process ran
before, and two validators could disagree on the same batch.
"""

from __future__ import annotations

import ast
import decimal
import importlib
from contextlib import AbstractContextManager
from typing import Any

from worldgym.gym.generators._rg_catalog import LITERAL_EVAL_SCORERS

__all__ = [
    "MAX_EXPRESSION_CHARS",
    "check_expression",
    "harden_literal_scorers",
    "literal_only_eval",
    "pristine_decimals",
]

MAX_LITERAL_CHARS = 100_000
MAX_EXPRESSION_CHARS = 2_000

_FUNCTIONS = frozenset(
    {
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tanh",
        "exp",
        "log",
        "ln",
        "sqrt",
        "Abs",
        "abs",
        "Rational",
    }
)
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv)


def pristine_decimals() -> AbstractContextManager[decimal.Context]:
    """A local decimal context equal to a fresh interpreter's (whatever the thread's says)."""
    return decimal.localcontext(
        decimal.Context(
            prec=28,
            rounding=decimal.ROUND_HALF_EVEN,
            Emin=-999_999,
            Emax=999_999,
            capitals=1,
            clamp=0,
            flags=[],
            traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
        )
    )


def literal_only_eval(source: Any, *_args: Any, **_kwargs: Any) -> Any:
    """``ast.literal_eval`` with a size cap, standing in for ``eval`` in guarded scorer modules."""
    if not isinstance(source, str) or len(source) > MAX_LITERAL_CHARS:
        raise ValueError("only short Python literals are evaluated")
    return ast.literal_eval(source.strip())


def harden_literal_scorers() -> None:
    """Shadow ``eval`` with :func:`literal_only_eval` in the scorer modules that eval answers."""
    for module_name in LITERAL_EVAL_SCORERS.values():
        module = importlib.import_module(module_name)
        module.eval = literal_only_eval  # type: ignore[attr-defined]


def _power_ok(node: ast.BinOp) -> bool:
    """A power's base and exponent hold no further powers, and its exponent's numbers are small."""
    for side in (node.left, node.right):
        if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(side)):
            return False
    return all(
        not (isinstance(n, ast.Constant) and isinstance(n.value, int | float))
        or abs(n.value) <= 1000
        for n in ast.walk(node.right)
    )


def _node_ok(node: ast.AST) -> bool:
    if isinstance(node, ast.Expression):
        return True
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, float)
    if isinstance(node, ast.Name):
        return not node.id.startswith("_")
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.UAdd | ast.USub)
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, _BINOPS) and (
            not isinstance(node.op, ast.Pow) or _power_ok(node)
        )
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and not node.keywords
    return isinstance(node, ast.Load | ast.operator | ast.unaryop)


def check_expression(answer: str) -> str | None:
    """None if ``answer`` is safe arithmetic for ``parse_expr``, else the reason it is refused."""
    if len(answer) > MAX_EXPRESSION_CHARS:
        return f"expression longer than {MAX_EXPRESSION_CHARS} characters"
    try:
        tree = ast.parse(answer.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "not an arithmetic expression"
    for node in ast.walk(tree):
        if not _node_ok(node):
            return f"expression may only use numbers, names, + - * / ** and {sorted(_FUNCTIONS)}"
    return None
