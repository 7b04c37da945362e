"""The deployment manifest: where the contracts of one chain live, and with which parameters.

``worldgym devnet up`` and ``worldgym deploy`` write it; every other command
reads it. One file per chain id (``<data_dir>/deployments/<chain_id>.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from worldgym.chain.protocol_math import MIN_MINER_UNBONDING_EPOCHS
from worldgym.core.amounts import WAD
from worldgym.core.errors import ConfigError
from worldgym.core.files import write_durably

__all__ = ["ContractAddresses", "Deployment", "ProtocolParams", "manifest_path"]


class ProtocolParams(BaseModel):
    """Every constructor parameter of the protocol, with devnet defaults (see :meth:`public`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_name: str = "WorldGym"
    token_symbol: str = "WGT"
    cap: int = Field(1_000_000_000 * WAD, gt=0, description="hard cap on total supply")
    genesis_supply: int = Field(100_000_000 * WAD, ge=0, description="minted at deploy")
    initial_epoch_emission: int = Field(1_000 * WAD, ge=0, description="emission of epoch 0")
    halving_interval: int = Field(10_000, gt=0, description="epochs between halvings")
    registration_bond: int = Field(100 * WAD, ge=0, description="tokens locked per environment")
    bond_release_delay: int = Field(20, ge=0, description="blocks from deactivation to bond return")
    min_stake: int = Field(1_000 * WAD, gt=0, description="stake needed to commit")
    unbonding_epochs: int = Field(
        3, ge=1, description="epochs from unbonding request to withdrawal (>= 3 with a miner bond)"
    )
    epoch_length: int = Field(30, gt=0, description="blocks per epoch")
    commit_blocks: int = Field(15, gt=0)
    reveal_blocks: int = Field(15, gt=0)
    max_batches_per_epoch: int = Field(1024, gt=0, lt=2**32)
    max_batches_per_miner: int = Field(64, gt=0, lt=2**32)
    max_traces_per_batch: int = Field(4096, gt=0, lt=2**32)
    max_validators_per_epoch: int = Field(64, gt=0, le=256)
    miner_bps: int = Field(7_000, ge=0, le=10_000)
    validator_bps: int = Field(2_000, ge=0, le=10_000)
    environment_bps: int = Field(1_000, ge=0, le=10_000)
    slash_bps: int = Field(1_000, ge=0, le=10_000, description="validators: commit, no reveal")
    miner_slash_bps: int = Field(
        5_000, ge=0, le=10_000, description="of a miner's stake, per batch judged FRAUD"
    )
    max_model_lag: int = Field(
        2, ge=0, lt=2**32, description="models before the latest that batches may still use"
    )
    miner_stake: int = Field(
        100 * WAD, ge=0, lt=2**256, description="stake a miner needs to submit (0: no bond)"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.miner_bps + self.validator_bps + self.environment_bps != 10_000:
            raise ValueError(
                "miner_bps + validator_bps + environment_bps must be 10000, got "
                f"{self.miner_bps} + {self.validator_bps} + {self.environment_bps}"
            )
        if self.commit_blocks + self.reveal_blocks > self.epoch_length:
            raise ValueError(
                f"commit_blocks + reveal_blocks ({self.commit_blocks} + {self.reveal_blocks}) "
                f"must fit in epoch_length ({self.epoch_length}): shorten the windows"
            )
        if self.genesis_supply > self.cap:
            raise ValueError(f"genesis_supply {self.genesis_supply} exceeds cap {self.cap}")
        if self.miner_stake > 0 and self.unbonding_epochs < MIN_MINER_UNBONDING_EPOCHS:
            raise ValueError(
                f"unbonding_epochs {self.unbonding_epochs} is too short while miners are bonded "
                f"(miner_stake > 0): a miner could withdraw before its batches are finalized; "
                f"use at least {MIN_MINER_UNBONDING_EPOCHS} (or miner_stake = 0)"
            )
        return self

    @classmethod
    def public(cls) -> ProtocolParams:
        """Recommended values for a public network (~2 s blocks: one-hour epochs)."""
        return cls(
            epoch_length=1_800,
            commit_blocks=900,
            reveal_blocks=900,
            bond_release_delay=43_200 * 7,
            unbonding_epochs=7 * 24,
            halving_interval=24 * 365 * 2,
            max_validators_per_epoch=64,
            min_stake=10_000 * WAD,
            registration_bond=1_000 * WAD,
            miner_stake=1_000 * WAD,
        )

    def constructor_tuple(self) -> tuple[int, ...]:
        """The ``IWorldGym.Params`` struct, in field order."""
        return (
            self.epoch_length,
            self.commit_blocks,
            self.reveal_blocks,
            self.max_batches_per_epoch,
            self.max_batches_per_miner,
            self.max_traces_per_batch,
            self.max_validators_per_epoch,
            self.miner_bps,
            self.validator_bps,
            self.environment_bps,
            self.slash_bps,
            self.miner_slash_bps,
            self.max_model_lag,
            self.miner_stake,
        )


class ContractAddresses(BaseModel):
    """Checksummed addresses of the deployed contracts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str
    environment_registry: str
    staking: str
    model_registry: str
    worldgym: str

    def by_contract(self) -> dict[str, str]:
        """Addresses keyed by contract (artifact) name."""
        return {
            "WorldGymToken": self.token,
            "EnvironmentRegistry": self.environment_registry,
            "Staking": self.staking,
            "ModelRegistry": self.model_registry,
            "WorldGym": self.worldgym,
        }


class Deployment(BaseModel):
    """A deployment manifest: chain, addresses, block and parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: Literal["worldgym.deployment/1"] = Field("worldgym.deployment/1", alias="schema")
    chain_id: int
    deploy_block: int
    deployer: str
    addresses: ContractAddresses
    params: ProtocolParams
    source_digest: str

    def save(self, path: Path) -> None:
        """Write durably: the old manifest or all of the new one survives a crash."""
        document = json.dumps(self.model_dump(mode="json", by_alias=True), indent=2) + "\n"
        write_durably(path, document.encode())

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Read a manifest, with an error that says how to get one."""
        try:
            doc: Any = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(
                f"no deployment manifest at {path}: run `worldgym devnet up` for a local network "
                "or `worldgym deploy` for another chain"
            ) from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"deployment manifest {path} is unreadable: {exc}") from None
        try:
            return cls.model_validate(doc)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"deployment manifest {path}: {where}: {first['msg']}") from None


def manifest_path(data_dir: Path, chain_id: int) -> Path:
    """Where the manifest of ``chain_id`` lives under ``data_dir``."""
    return data_dir / "deployments" / f"{chain_id}.json"
