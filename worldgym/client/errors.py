"""The client's errors: wallets and key locks.

Tree::

    UsageError (worldgym.core.errors)
    └── KeyInUseError          another process on this machine sends with the same key
    WorldGymError
    └── WalletError            a keystore wallet cannot be created, found or opened
        ├── WalletNotFoundError    no wallet with that name or address
        └── WrongPasswordError     the password does not decrypt the keystore file
"""

from __future__ import annotations

from worldgym.core.errors import UsageError, WorldGymError

__all__ = [
    "KeyInUseError",
    "WalletError",
    "WalletNotFoundError",
    "WrongPasswordError",
]


class KeyInUseError(UsageError):
    """Another process on this machine holds the key's lock on this deployment.

    Two processes sending from one account race for nonces and act twice (two claims,
    two commitments); the second one is refused instead.
    """


class WalletError(WorldGymError):
    """A keystore wallet cannot be created, found or opened."""


class WalletNotFoundError(WalletError, LookupError):
    """No wallet in the keystore matches the given name or address."""


class WrongPasswordError(WalletError, ValueError):
    """The password does not decrypt the keystore file."""
