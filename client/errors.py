"""The root of WorldGym's exceptions.

Every package (``client``, ``storage``, ``gym``, ``miner``, ``validator``,
``refinery``) has its own ``errors.py`` whose base class derives from
:class:`WorldGymError`, so the CLI can catch one type and print one clear
line. Third-party exceptions are translated at the boundary
(``raise X(...) from None``) so users see one vocabulary.

Tree (this module)::

    WorldGymError
    ├── ConfigError                a setting is wrong or missing (says what to set)
    │   └── ChainIdMismatchError   the RPC serves another chain than the profile names
    ├── UsageError                 the caller asked for something impossible
    │   └── KeyInUseError          another process on this machine sends with the same key
    ├── WalletError                a keystore wallet cannot be created, found or opened
    │   ├── WalletNotFoundError    no wallet with that name or address
    │   └── WrongPasswordError     the password does not decrypt the keystore file
    └── ChainError                 talking to the chain failed
        ├── RpcUnavailableError    the node cannot be reached or did not answer
        └── TransactionError       a transaction could not be sent or did not succeed
            ├── RevertError        a call, gas estimate or mined transaction reverted
            │                      (carries the decoded revert: contract, error, values)
            ├── TxRejectedError    the node refused the signed transaction (not in the pool)
            ├── TxTimeoutError     sent, but no receipt within the time limit
            └── NonceConflictError another sender used the nonce this one reserved
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from client.revert import DecodedRevert

__all__ = [
    "ChainError",
    "ChainIdMismatchError",
    "ConfigError",
    "KeyInUseError",
    "NonceConflictError",
    "RevertError",
    "RpcUnavailableError",
    "TransactionError",
    "TxRejectedError",
    "TxTimeoutError",
    "UsageError",
    "WalletError",
    "WalletNotFoundError",
    "WorldGymError",
    "WrongPasswordError",
]


class WorldGymError(Exception):
    """Base class of every error WorldGym raises on purpose."""


class ConfigError(WorldGymError, ValueError):
    """A setting is missing or invalid; the message says what to set."""


class UsageError(WorldGymError, ValueError):
    """A command or function was called with arguments that cannot work."""


class KeyInUseError(UsageError):
    """Another process on this machine holds the key's lock on this deployment.

    Two processes sending from one account race for nonces and act twice (two claims,
    two commitments); the second one is refused instead.
    """


class ChainIdMismatchError(ConfigError):
    """The node at the profile's RPC URL reports another chain id than the profile."""


class WalletError(WorldGymError):
    """A keystore wallet cannot be created, found or opened."""


class WalletNotFoundError(WalletError, LookupError):
    """No wallet in the keystore matches the given name or address."""


class WrongPasswordError(WalletError, ValueError):
    """The password does not decrypt the keystore file."""


class ChainError(WorldGymError):
    """Talking to the chain failed."""


class RpcUnavailableError(ChainError, ConnectionError):
    """The node cannot be reached, or it did not answer in time."""


class TransactionError(ChainError):
    """A transaction could not be sent, or it did not succeed.

    ``tx_hash`` is the transaction's hash (0x hex) once it was signed, else None.
    """

    def __init__(self, message: str, *, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class RevertError(TransactionError):
    """A call, a gas estimate or a mined transaction reverted.

    ``revert`` is the decoded revert data (None when the node gave none).
    """

    def __init__(
        self, message: str, *, revert: DecodedRevert | None = None, tx_hash: str | None = None
    ) -> None:
        super().__init__(message, tx_hash=tx_hash)
        self.revert = revert


class TxRejectedError(TransactionError):
    """The node refused the signed transaction, so it never entered the pool."""


class TxTimeoutError(TransactionError, TimeoutError):
    """The transaction was sent but no receipt arrived in time (it may still be mined)."""


class NonceConflictError(TransactionError):
    """Another sender (another process with the same key) used the nonce this one reserved."""
