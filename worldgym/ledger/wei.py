"""Token amounts in the database: exact to the wei on SQLite, which has no integer over 64 bits.

Every amount is stored as two signed 64-bit columns, ``<name>_hi`` and
``<name>_lo``, with ``value = hi * 2**32 + lo``. A row holds ``hi = value >> 32``
and ``lo = value & (2**32 - 1)``; sums stay exact in SQL because the encoding is
additive (``SUM(hi) * 2**32 + SUM(lo)`` is the sum of the values), and aggregates
can be moved by signed deltas when a reorg is undone. The limits: one amount is
below 2**95 (4 * 10**10 tokens of 18 decimals; the protocol's cap is 10**9) and a
sum holds fewer than 2**31 rows. PostgreSQL uses the same columns, so one schema
serves both.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column

from worldgym.ledger.errors import LedgerDecodeError

__all__ = [
    "LIMB_BITS",
    "MAX_WEI",
    "Wei",
    "join_wei",
    "split_wei",
    "wei_columns",
]

LIMB_BITS = 32
_LO_MASK = (1 << LIMB_BITS) - 1
MAX_WEI = 1 << 95


class Wei(int):
    """An amount in token base units. JSON output shows it as a decimal string (exact in JS)."""

    __slots__ = ()


def split_wei(value: int) -> tuple[int, int]:
    """``(hi, lo)`` of an amount in ``[0, MAX_WEI)``; anything else is a decode error."""
    if not 0 <= value < MAX_WEI:
        raise LedgerDecodeError(
            f"amount {value} is outside what the ledger stores exactly ([0, 2**95) wei)"
        )
    return value >> LIMB_BITS, value & _LO_MASK


def join_wei(hi: int | None, lo: int | None) -> Wei:
    """The amount of a ``(hi, lo)`` pair (None, an empty SUM, counts as 0)."""
    return Wei((int(hi or 0) << LIMB_BITS) + int(lo or 0))


def wei_columns(name: str, *, nullable: bool = False) -> tuple[Column[int], Column[int]]:
    """The two columns that store amount ``name``."""
    default = None if nullable else 0
    return (
        Column(f"{name}_hi", BigInteger, nullable=nullable, default=default),
        Column(f"{name}_lo", BigInteger, nullable=nullable, default=default),
    )
