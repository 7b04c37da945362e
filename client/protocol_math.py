"""The protocol's arithmetic, in Python, exactly as the contracts compute it.

Validators use it to pack scores and build commitments; the ledger and the
tests use it to predict consensus and rewards to the wei. Every function here
mirrors a piece of ``contracts/src`` and is tested against the real contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

__all__ = [
    "BPS",
    "LANES",
    "SCORE_SCALE",
    "EpochOutcome",
    "ValidatorReveal",
    "commitment",
    "pack_scores",
    "predict_epoch",
    "unpack_scores",
    "weighted_median",
]

SCORE_SCALE = 10_000
LANES = 16
BPS = 10_000


def pack_scores(scores: Sequence[int]) -> list[int]:
    """Pack batch scores sixteen 16-bit big-endian lanes to a word (``reveal``'s argument)."""
    words = [0] * ((len(scores) + LANES - 1) // LANES)
    for i, score in enumerate(scores):
        if not 0 <= score <= SCORE_SCALE:
            raise ValueError(f"score {score} of batch {i} is outside [0, {SCORE_SCALE}]")
        words[i // LANES] |= score << ((LANES - 1 - i % LANES) * 16)
    return words


def unpack_scores(words: Sequence[int], count: int) -> list[int]:
    """Inverse of :func:`pack_scores` for ``count`` batches."""
    return [(words[i // LANES] >> ((LANES - 1 - i % LANES) * 16)) & 0xFFFF for i in range(count)]


def commitment(epoch: int, validator: str, packed: Sequence[int], salt: bytes) -> bytes:
    """keccak256(abi.encode(epoch, validator, packedScores, salt)), as ``commit`` expects."""
    return keccak(
        encode(
            ["uint256", "address", "uint256[]", "bytes32"],
            [epoch, to_checksum_address(validator), list(packed), salt],
        )
    )


def weighted_median(scores: Sequence[int], weights: Sequence[int]) -> int:
    """Lower stake-weighted median: the first score whose cumulative weight reaches ceil(W/2)."""
    pairs = sorted(zip(scores, weights, strict=True))
    half = (sum(weights) + 1) // 2
    cumulative = 0
    for score, weight in pairs:
        cumulative += weight
        if cumulative >= half:
            return score
    return pairs[-1][0]


@dataclass(frozen=True)
class ValidatorReveal:
    """A validator's commitment for an epoch: stake at commit and scores (None: never revealed)."""

    address: str
    stake: int
    scores: Sequence[int] | None


@dataclass
class EpochOutcome:
    """What finalizing an epoch credits, by account, and what it leaves in the carry."""

    consensus: list[int]
    minted: int
    miner_pot: int
    validator_pot: int
    environment_pot: int
    credits: dict[str, int] = field(default_factory=dict)
    carry_out: int = 0


def predict_epoch(
    *,
    batches: Sequence[tuple[str, str, int]],
    validators: Sequence[ValidatorReveal],
    emission: int,
    miner_bps: int,
    validator_bps: int,
    environment_bps: int,
    carry_in: int = 0,
    slashed: int = 0,
) -> EpochOutcome:
    """Predict ``finalize`` for one epoch.

    ``batches`` are ``(miner, environment owner, trace count)`` in submission order;
    ``emission`` is the token's scheduled emission for the epoch (cap not reached);
    ``slashed`` is what the non-revealers lose (added to the carry after crediting).
    """
    revealed = [v for v in validators if v.scores is not None]
    consensus: list[int] = []
    agreement = [0] * len(revealed)
    total_weight = 0
    if revealed:
        for b, (_, _, traces) in enumerate(batches):
            column = [v.scores[b] for v in revealed if v.scores is not None]
            c = weighted_median(column, [v.stake for v in revealed])
            consensus.append(c)
            total_weight += c * traces
            for i, s in enumerate(column):
                agreement[i] += traces * (SCORE_SCALE - abs(s - c))
    validator_weight = sum(v.stake * a for v, a in zip(revealed, agreement, strict=True))
    active = (miner_bps + environment_bps if total_weight else 0) + (
        validator_bps if validator_weight else 0
    )
    out = EpochOutcome(consensus, 0, 0, 0, 0)
    if not active:
        out.carry_out = carry_in + slashed
        return out
    out.minted = emission * active // BPS
    pot = out.minted + carry_in
    if total_weight:
        out.miner_pot = pot * miner_bps // active
        out.environment_pot = pot * environment_bps // active
    if validator_weight:
        out.validator_pot = pot * validator_bps // active

    def credit(account: str, amount: int) -> None:
        if amount:
            out.credits[account] = out.credits.get(account, 0) + amount

    for (miner, owner, traces), c in zip(batches, consensus, strict=False):
        weight = c * traces
        if weight:
            credit(miner, out.miner_pot * weight // total_weight)
            credit(owner, out.environment_pot * weight // total_weight)
    for v, a in zip(revealed, agreement, strict=True):
        if validator_weight:
            credit(v.address, out.validator_pot * (v.stake * a) // validator_weight)
    out.carry_out = pot - sum(out.credits.values()) + slashed
    return out
