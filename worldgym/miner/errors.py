"""Errors of the miner.

Tree::

    WorldGymError
    └── MinerError            the miner cannot go on (the message says what to do)
        └── SpoolError        the local spool is unreadable or inconsistent
"""

from __future__ import annotations

from worldgym.core.errors import WorldGymError

__all__ = ["MinerError", "SpoolError"]


class MinerError(WorldGymError):
    """The miner cannot go on; the message says what to do."""


class SpoolError(MinerError):
    """The local spool is unreadable or inconsistent."""
