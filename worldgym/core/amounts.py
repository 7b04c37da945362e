"""Token amounts: wei as integers, parsed and printed exactly.

Amounts live on chain as integers of 18 decimals (:data:`WAD` wei per WGT, and
per ETH). Here they are only ever ``int``: :func:`parse_wgt` reads what a
person types, :func:`format_wgt` prints for people, both with integer or
exact decimal arithmetic, never float (a float has 53 bits; a supply of
10**9 WGT is 2**90 wei).

Python's decimal context is per thread and anyone may change it: reasoning-gym's
``decimal_arithmetic`` generator sets ``getcontext().prec`` to a task's
precision (as low as a few digits), so a validator that scored one of those
tasks would then round, or refuse, ``Decimal`` arithmetic on amounts. Every
decimal conversion here runs in its own context (:func:`exact_decimals`) with
enough digits for any uint256 (78) plus 18 decimals.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Final

from worldgym.core.errors import UsageError

__all__ = ["UINT256_MAX", "WAD", "exact_decimals", "format_wgt", "parse_wgt", "wgt_cell"]

WAD: Final = 10**18
UINT256_MAX: Final = 2**256 - 1
_PRECISION = 100


def exact_decimals() -> AbstractContextManager[Context]:
    """A local decimal context of 100 digits with Python's default traps and rounding."""
    return localcontext(Context(prec=_PRECISION))


def format_wgt(
    wei: int, *, places: int | None = 4, trim: bool = True, unit: str | None = "WGT"
) -> str:
    """``wei`` for people: ``1,234.5 WGT``; exact for any integer.

    ``places`` decimals (None: all 18), cut toward zero, so a balance is never
    shown as more than it is; ``trim`` drops trailing zeros and a bare point
    (``trim=False`` keeps a fixed width for columns: ``1,234.5000``); ``unit``
    follows after a space (None: no unit; ``"ETH"`` for ether, also 18 decimals).
    """
    if places is not None and not 0 <= places <= 18:
        raise ValueError(f"places must be between 0 and 18, not {places}")
    whole, frac = divmod(abs(int(wei)), WAD)
    digits = f"{frac:018d}"[: 18 if places is None else places]
    if trim:
        digits = digits.rstrip("0")
    sign = "-" if wei < 0 and (whole or digits.strip("0")) else ""
    text = f"{sign}{whole:,}" + (f".{digits}" if digits else "")
    return f"{text} {unit}" if unit else text


def wgt_cell(wei: int) -> str:
    """An amount for a table column whose header names the unit: ``1,234.5000``."""
    return format_wgt(wei, trim=False, unit=None)


def parse_wgt(text: str, what: str = "amount") -> int:
    """A positive WGT amount (decimals allowed, at most 18) in wei.

    ``NaN``, infinities, zero, negative numbers and amounts beyond a uint256 are
    refused with a sentence.
    """
    cleaned = text.strip().replace("_", "")
    with exact_decimals():
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise UsageError(f"{what} {text!r} is not an amount of WGT (e.g. 1000 or 2.5)")
        if value <= 0:
            raise UsageError(f"{what} {text!r} must be more than zero")
        if value.adjusted() > 60:  # beyond any uint256 amount; keeps the arithmetic exact
            raise UsageError(f"{what} {text!r} is larger than any token amount")
        wei = value.scaleb(18)
        if wei != wei.to_integral_value():
            raise UsageError(f"{what} {text!r} has more than 18 decimals")
        amount = int(wei)
    if amount > UINT256_MAX:
        raise UsageError(f"{what} {text!r} is larger than any token amount")
    return amount
