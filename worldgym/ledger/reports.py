"""What the ledger's queries return: plain frozen dataclasses, and their JSON form.

Amounts are :class:`~worldgym.ledger.wei.Wei` (exact ints); :func:`to_jsonable` writes
them as decimal strings, so a browser or ``jq`` never rounds them. Addresses are
checksummed, CIDs are strings, hashes and digests ``0x`` hex.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from worldgym.ledger.wei import Wei

ZERO = Wei(0)

__all__ = [
    "ZERO",
    "AddressReport",
    "BatchRow",
    "EnvEpoch",
    "EnvReport",
    "EnvSummary",
    "EpochReport",
    "EpochRewards",
    "EpochSummary",
    "LedgerStatus",
    "MinerEpoch",
    "ModelRow",
    "RoyaltyRow",
    "Settlement",
    "TopReport",
    "TopRow",
    "ValidatorEpoch",
    "ValidatorStanding",
    "to_jsonable",
]


@dataclass(frozen=True)
class LedgerStatus:
    """Where the ledger stands and where the chain's clock is."""

    chain_id: int
    worldgym: str
    deploy_block: int
    genesis_block: int
    epoch_length: int
    indexed_block: int
    head_block: int
    current_epoch: int
    phase: str  # of the current epoch's predecessor's scoring: e.g. "epoch 4: commit"
    credited: Wei
    claimed: Wei


@dataclass(frozen=True)
class EpochSummary:
    """One line of the epochs list."""

    epoch: int
    phase: str  # submit | commit | reveal | finalize | finalizing | finalized
    start_block: int
    batches: int
    traces: int
    validators: int
    minted: Wei
    credited: Wei


@dataclass(frozen=True)
class BatchRow:
    """A batch, its consensus and what it earned (or cost its miner)."""

    epoch: int
    index: int
    miner: str
    env_id: int
    env_version: int
    sequence: int
    traces: int
    model_id: int
    cid: str
    block: int
    tx_hash: str
    consensus: int | None = None  # basis points of learning signal; 16383 (FRAUD) if flagged
    weight: int | None = None  # consensus x traces, 0 for FRAUD
    miner_reward: Wei = ZERO
    royalty: Wei = ZERO
    digest: int | None = None  # of the consensus lane
    fraud: bool = False  # the stake majority flagged it
    env_weight: int | None = None  # its environment's weight in the epoch, once scored
    miner_slashed: Wei = ZERO  # taken from its miner's bond for it


@dataclass(frozen=True)
class ValidatorEpoch:
    """A validator in one epoch: its stake at commit, credit for exact lanes, and pay."""

    epoch: int
    validator: str
    stake: Wei
    revealed: bool
    # raw credit, once finalized: the weight of the batches whose consensus lane it revealed
    # exactly (traces x 10,000 for a FRAUD batch)
    agreement: int | None
    agreement_bps: int | None  # credit / what exact lanes on every batch would have earned
    reward: Wei
    slashed: Wei
    scores: list[int] | None = None  # per batch (16383: FRAUD), in the epoch report only
    matches: list[bool] | None = None  # per batch: its lane is the consensus lane, ditto


@dataclass(frozen=True)
class Settlement:
    """An epoch's emission and pots (``EpochSettled``), and the carry after it."""

    minted: Wei
    carried_in: Wei
    miner_pot: Wei
    validator_pot: Wei
    environment_pot: Wei
    carry_out: Wei | None


@dataclass(frozen=True)
class EpochReport:
    """Everything about one epoch."""

    epoch: int
    phase: str
    windows: dict[str, tuple[int, int | None]]  # [opens, closes); finalize never closes
    seed: str | None
    batches: list[BatchRow]
    validators: list[ValidatorEpoch]
    settlement: Settlement | None
    rewards: dict[str, Wei]  # by role
    env_weights: dict[int, int] = field(default_factory=dict)  # environment -> weight W
    miner_slashed: Wei = ZERO  # miners' bonds taken for FRAUD batches


@dataclass(frozen=True)
class MinerEpoch:
    """A miner's work and pay in one epoch."""

    epoch: int
    batches: int
    traces: int
    consensus_bps: int | None  # trace-weighted mean consensus of its scored batches
    reward: Wei
    fraud: int = 0  # batches flagged FRAUD
    slashed: Wei = ZERO  # taken from its bond for them


@dataclass(frozen=True)
class RoyaltyRow:
    """Royalties an account earned from one environment."""

    env_id: int
    royalty: Wei
    payments: int
    owner_now: bool


@dataclass(frozen=True)
class EpochRewards:
    """An account's credits in one epoch, by role."""

    epoch: int
    miner: Wei
    validator: Wei
    environment: Wei

    @property
    def total(self) -> Wei:
        """All roles."""
        return Wei(self.miner + self.validator + self.environment)


@dataclass(frozen=True)
class ValidatorStanding:
    """A validator's stake now (replayed from Staking's events) and its epochs."""

    stake: Wei
    unbonding: Wei
    release_epoch: int | None
    epochs: list[ValidatorEpoch]


@dataclass(frozen=True)
class AddressReport:
    """Everything an address contributed and earned."""

    address: str
    credited: Wei
    claimed: Wei
    claimable: Wei
    slashed: Wei  # as a validator that did not reveal
    by_role: dict[str, Wei]
    rewards: list[EpochRewards]
    miner: list[MinerEpoch]
    recent_batches: list[BatchRow]
    validator: ValidatorStanding | None
    royalties: list[RoyaltyRow]
    balance: Wei | None = None  # token balance, from the chain when it was reachable
    miner_slashed: Wei = ZERO  # as a miner, for FRAUD batches


@dataclass(frozen=True)
class EnvEpoch:
    """An environment's activity in one epoch."""

    epoch: int
    batches: int
    traces: int
    consensus_bps: int | None
    royalty: Wei
    weight: int | None = None  # the stake-weighted median of the validators' weights


@dataclass(frozen=True)
class EnvSummary:
    """One line of the environments list."""

    env_id: int
    owner: str
    versions: int
    active: bool
    batches: int
    traces: int
    royalty: Wei


@dataclass(frozen=True)
class EnvReport:
    """An environment: owner, versions, activity and royalties."""

    env_id: int
    owner: str
    registrant: str
    registered_block: int
    bond: Wei
    active: bool
    bond_unlocks_at: int | None
    versions: list[tuple[int, str, int]]  # (version, spec CID, block)
    transfers: list[tuple[str, str, int]]  # (from, to, block)
    batches: int
    traces: int
    royalty: Wei
    epochs: list[EnvEpoch]


@dataclass(frozen=True)
class TopRow:
    """One line of a leaderboard."""

    rank: int
    subject: str  # an address, or an environment id
    reward: Wei
    epochs: int  # epochs with a credit
    batches: int = 0
    traces: int = 0
    consensus_bps: int | None = None  # miners, environments
    stake: Wei | None = None  # validators: active stake now
    agreement_bps: int | None = None  # validators
    slashed: Wei | None = None  # validators
    owner: str | None = None  # environments


@dataclass(frozen=True)
class TopReport:
    """A leaderboard for one role over an epoch range (None: all epochs)."""

    role: str
    epochs: tuple[int, int] | None
    rows: list[TopRow]


@dataclass(frozen=True)
class ModelRow:
    """A registered model, its lineage, use and (if found) metrics."""

    model_id: int
    parent_id: int
    registrar: str
    block: int
    checkpoint_cid: str
    dataset_cid: str | None
    metrics_digest: str
    batches: int
    traces: int
    metrics: dict[str, Any] | None = None
    metrics_verified: bool | None = None  # the metrics hash to the on-chain digest
    metrics_source: str | None = None
    children: list[int] = field(default_factory=list)


def to_jsonable(value: Any) -> Any:
    """``value`` with dataclasses as dicts, amounts as decimal strings and bytes as hex."""
    if isinstance(value, Wei):
        return str(int(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, EpochRewards):
            out["total"] = str(int(value.total))
        return out
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value
