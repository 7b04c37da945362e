"""Errors talking to the chain.

Tree::

    ConfigError (worldgym.core.errors)
    └── ChainIdMismatchError   the RPC serves another chain than the profile names
    WorldGymError
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

from worldgym.core.errors import ConfigError, WorldGymError

if TYPE_CHECKING:
    from worldgym.chain.revert import DecodedRevert

__all__ = [
    "ChainError",
    "ChainIdMismatchError",
    "NonceConflictError",
    "RevertError",
    "RpcUnavailableError",
    "TransactionError",
    "TxRejectedError",
    "TxTimeoutError",
]


class ChainIdMismatchError(ConfigError):
    """The node at the profile's RPC URL reports another chain id than the profile."""


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
