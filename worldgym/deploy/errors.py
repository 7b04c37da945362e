"""Errors of the deployment tooling.

Tree (this module; ``worldgym.deploy.anvil.AnvilError`` sits beside it under WorldGymError)::

    WorldGymError
    └── DeployError                 a deployment could not be made, or is not what it claims
        ├── ParamsFileError         a --params file is unreadable or names a bad value (says which)
        ├── ManifestExistsError     the chain already has a manifest (--force replaces it)
        ├── UnsupportedChainError   the chain cannot run the contracts (no Cancun opcodes)
        ├── InsufficientFundsError  the deployer cannot pay for the deployment
        └── VerificationError       the chain does not hold what the manifest says
"""

from __future__ import annotations

from worldgym.core.errors import WorldGymError

__all__ = [
    "DeployError",
    "InsufficientFundsError",
    "ManifestExistsError",
    "ParamsFileError",
    "UnsupportedChainError",
    "VerificationError",
]


class DeployError(WorldGymError, RuntimeError):
    """A deployment could not be made, or a deployed set is not what it claims."""


class ParamsFileError(DeployError, ValueError):
    """A protocol parameters file is unreadable or holds a bad value; the message says which."""


class ManifestExistsError(DeployError, FileExistsError):
    """The chain already has a deployment manifest; ``--force`` deploys a new set anyway."""


class UnsupportedChainError(DeployError):
    """The chain lacks an EVM feature the compiled contracts use (PUSH0, MCOPY, TLOAD)."""


class InsufficientFundsError(DeployError):
    """The deployer's balance does not cover the deployment at current fees."""


class VerificationError(DeployError):
    """Code or wiring on chain differs from the manifest and the shipped artifacts.

    ``failures`` lists one sentence per failed check.
    """

    def __init__(self, message: str, failures: list[str] | None = None) -> None:
        super().__init__(message)
        self.failures = failures or []
