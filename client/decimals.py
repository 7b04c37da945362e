"""Exact decimal arithmetic for token amounts, whatever the process's decimal context says.

Python's decimal context is per thread and anyone may change it: reasoning-gym's
``decimal_arithmetic`` generator sets ``getcontext().prec`` to a task's
precision (as low as a few digits), so a validator that scored one of those
tasks would then round, or refuse, ``Decimal`` arithmetic on amounts. Every
amount conversion here runs in its own context with enough digits for any
uint256 (78) plus 18 decimals.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import Context, localcontext

__all__ = ["exact_decimals"]

_PRECISION = 100


def exact_decimals() -> AbstractContextManager[Context]:
    """A local decimal context of 100 digits with Python's default traps and rounding."""
    return localcontext(Context(prec=_PRECISION))
