"""Errors of the contribution ledger.

Tree::

    WorldGymError                       (worldgym.core.errors)
    └── LedgerError                     the ledger cannot index, read or answer
        ├── LedgerDatabaseError         the database cannot be opened, or belongs to another
        │                               deployment (the message says which and what to do)
        ├── LedgerDecodeError           the node returned a log or block the ledger cannot
        │                               trust (malformed, out of bounds, inconsistent)
        ├── LedgerQueryError            a query names something that is not in the ledger
        │                               (an unknown epoch, environment or a malformed address)
        └── LedgerMismatchError         ``ledger check`` found rows that disagree with the chain
"""

from __future__ import annotations

from worldgym.core.errors import WorldGymError

__all__ = [
    "LedgerDatabaseError",
    "LedgerDecodeError",
    "LedgerError",
    "LedgerMismatchError",
    "LedgerQueryError",
]


class LedgerError(WorldGymError):
    """Base class of every error the ledger raises on purpose."""


class LedgerDatabaseError(LedgerError):
    """The ledger database cannot be opened, or it indexes another chain or deployment."""


class LedgerDecodeError(LedgerError, ValueError):
    """A log or block from the node is malformed, out of bounds or inconsistent."""


class LedgerQueryError(LedgerError, LookupError):
    """A query names an address, epoch, environment or role the ledger cannot answer for."""


class LedgerMismatchError(LedgerError):
    """The ledger disagrees with the contracts (``worldgym ledger check``)."""
