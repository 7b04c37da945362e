"""The root of WorldGym's exceptions.

Every package has its own ``errors.py`` whose base class derives from
:class:`WorldGymError`, so the CLI can catch one type and print one clear
line. Third-party exceptions are translated at the boundary
(``raise X(...) from None``) so users see one vocabulary.

Tree (this module)::

    WorldGymError
    ├── ConfigError     a setting is wrong or missing (says what to set)
    └── UsageError      the caller asked for something impossible

The chain's errors are in :mod:`worldgym.chain.errors`, the wallet's in
:mod:`worldgym.client.errors`, each package's in its own ``errors.py``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "UsageError",
    "WorldGymError",
]


class WorldGymError(Exception):
    """Base class of every error WorldGym raises on purpose."""


class ConfigError(WorldGymError, ValueError):
    """A setting is missing or invalid; the message says what to set."""


class UsageError(WorldGymError, ValueError):
    """A command or function was called with arguments that cannot work."""
