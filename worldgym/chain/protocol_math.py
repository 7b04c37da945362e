"""The protocol's arithmetic (v2, docs/protocol-v2.md) in Python, exactly as the contracts do it.

Validators use it to pack lanes and environment weights and to build commitments;
the ledger and the tests use it to predict consensus and rewards to the wei. Every
function here mirrors a piece of ``contracts/src`` and is tested against the real
contract.

A validator's verdict on a batch is a 21-bit **lane** ``score << 7 | digest``
(:func:`make_lane`): ``score`` in 0..10,000 or :data:`FRAUD`, ``digest`` in
0..127. Lanes are packed twelve to a word, lane 0 in the top bits and the low 4
bits zero (:func:`pack_lanes`). **Environment weights** are 48-bit entries
``env_id << 16 | weight``, five to a word from the top, the low 16 bits zero
(:func:`pack_env_weights`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

__all__ = [
    "BPS",
    "DIGEST_BITS",
    "ENTRIES_PER_WORD",
    "FRAUD",
    "LANES_PER_WORD",
    "LANE_BITS",
    "MAX_ENV_WEIGHTS",
    "MIN_MINER_UNBONDING_EPOCHS",
    "SCORE_SCALE",
    "BatchInput",
    "Credit",
    "EpochOutcome",
    "ValidatorReveal",
    "commitment",
    "default_env_weights",
    "lane_digest",
    "lane_score",
    "make_lane",
    "pack_env_weights",
    "pack_lanes",
    "predict_epoch",
    "slash",
    "unpack_env_weights",
    "unpack_lanes",
    "weighted_median",
]

SCORE_SCALE = 10_000
FRAUD = 0x3FFF
DIGEST_BITS = 7
LANE_BITS = 21
LANES_PER_WORD = 12
ENTRIES_PER_WORD = 5
MAX_ENV_WEIGHTS = 60
MIN_MINER_UNBONDING_EPOCHS = 3
BPS = 10_000

_DIGEST_MASK = (1 << DIGEST_BITS) - 1
_LANE_MASK = (1 << LANE_BITS) - 1
_LANE_PAD = 256 - LANES_PER_WORD * LANE_BITS  # 4
_ENTRY_BITS = 48
_ENTRY_MASK = (1 << _ENTRY_BITS) - 1
_ENTRY_PAD = 256 - ENTRIES_PER_WORD * _ENTRY_BITS  # 16
_MAX_ENV_ID = (1 << 32) - 1


# ─── lanes ────────────────────────────────────────────────────────────────────


def make_lane(score: int, digest: int) -> int:
    """The lane of a verdict: ``score << 7 | digest`` (score 0..10,000 or FRAUD, digest 0..127)."""
    if not (0 <= score <= SCORE_SCALE or score == FRAUD):
        raise ValueError(f"score {score} is neither in [0, {SCORE_SCALE}] nor FRAUD ({FRAUD})")
    if not 0 <= digest <= _DIGEST_MASK:
        raise ValueError(f"digest {digest} is outside [0, {_DIGEST_MASK}]")
    return score << DIGEST_BITS | digest


def lane_score(lane: int) -> int:
    """The score of a lane (:data:`FRAUD` for a fraud flag)."""
    return lane >> DIGEST_BITS


def lane_digest(lane: int) -> int:
    """The digest of a lane."""
    return lane & _DIGEST_MASK


def _lane_shift(index: int) -> int:
    return _LANE_PAD + (LANES_PER_WORD - 1 - index % LANES_PER_WORD) * LANE_BITS


def pack_lanes(lanes: Sequence[int]) -> list[int]:
    """Pack one lane per batch, twelve to a word (``reveal``'s ``packedLanes``)."""
    words = [0] * ((len(lanes) + LANES_PER_WORD - 1) // LANES_PER_WORD)
    for i, lane in enumerate(lanes):
        make_lane(lane_score(lane), lane_digest(lane))  # validates
        if not 0 <= lane <= _LANE_MASK:
            raise ValueError(f"lane {lane} of batch {i} does not fit {LANE_BITS} bits")
        words[i // LANES_PER_WORD] |= lane << _lane_shift(i)
    return words


def unpack_lanes(words: Sequence[int], count: int) -> list[int]:
    """Inverse of :func:`pack_lanes` for ``count`` batches."""
    return [(words[i // LANES_PER_WORD] >> _lane_shift(i)) & _LANE_MASK for i in range(count)]


# ─── environment weights ──────────────────────────────────────────────────────


def default_env_weights(env_ids: Sequence[int]) -> dict[int, int]:
    """Full weight (10,000) for each environment in ``env_ids``: a validator's default weights."""
    return dict.fromkeys(sorted(set(env_ids)), SCORE_SCALE)


def pack_env_weights(weights: Mapping[int, int]) -> list[int]:
    """Pack ``{env_id: weight}`` five entries to a word, ids increasing (``reveal``'s
    ``envWeights``)."""
    if len(weights) > MAX_ENV_WEIGHTS:
        raise ValueError(f"{len(weights)} environment weights; at most {MAX_ENV_WEIGHTS} fit")
    items = sorted(weights.items())
    words = [0] * ((len(items) + ENTRIES_PER_WORD - 1) // ENTRIES_PER_WORD)
    for k, (env_id, weight) in enumerate(items):
        if not 1 <= env_id <= _MAX_ENV_ID:
            raise ValueError(f"environment id {env_id} is outside [1, {_MAX_ENV_ID}]")
        if not 0 <= weight <= SCORE_SCALE:
            raise ValueError(
                f"weight {weight} of environment {env_id} is outside [0, {SCORE_SCALE}]"
            )
        shift = _ENTRY_PAD + (ENTRIES_PER_WORD - 1 - k % ENTRIES_PER_WORD) * _ENTRY_BITS
        words[k // ENTRIES_PER_WORD] |= (env_id << 16 | weight) << shift
    return words


def unpack_env_weights(words: Sequence[int]) -> dict[int, int]:
    """Inverse of :func:`pack_env_weights` (zero entries end the list)."""
    out: dict[int, int] = {}
    for word in words:
        for k in range(ENTRIES_PER_WORD):
            entry = (word >> (_ENTRY_PAD + (ENTRIES_PER_WORD - 1 - k) * _ENTRY_BITS)) & _ENTRY_MASK
            if entry == 0:
                return out
            out[entry >> 16] = entry & 0xFFFF
    return out


def commitment(
    epoch: int, validator: str, packed_lanes: Sequence[int], env_weights: Sequence[int], salt: bytes
) -> bytes:
    """keccak256(abi.encode(epoch, validator, packedLanes, envWeights, salt)): what ``commit``
    takes."""
    return keccak(
        encode(
            ["uint256", "address", "uint256[]", "uint256[]", "bytes32"],
            [epoch, to_checksum_address(validator), list(packed_lanes), list(env_weights), salt],
        )
    )


# ─── consensus and rewards ────────────────────────────────────────────────────


def weighted_median(values: Sequence[int], weights: Sequence[int]) -> int:
    """Lower stake-weighted median: the first value whose cumulative weight reaches ceil(W/2)."""
    pairs = sorted(zip(values, weights, strict=True))
    half = (sum(weights) + 1) // 2
    cumulative = 0
    for value, weight in pairs:
        cumulative += weight
        if cumulative >= half:
            return value
    return pairs[-1][0]


def slash(staked: int, unbonding: int, bps: int) -> tuple[int, int, int]:
    """``Staking.slash``: (amount taken, active stake left, unbonding stake left)."""
    from_stake, from_unbonding = staked * bps // BPS, unbonding * bps // BPS
    return from_stake + from_unbonding, staked - from_stake, unbonding - from_unbonding


class BatchInput(NamedTuple):
    """A batch as finalization sees it: its miner, environment (and owner) and trace count."""

    miner: str
    env_id: int
    owner: str
    trace_count: int


class Credit(NamedTuple):
    """One ``RewardCredited``: role 0 miner (subject: batch index), 1 validator (subject 0),
    2 environment owner (subject: environment id)."""

    account: str
    role: int
    subject: int
    amount: int


@dataclass(frozen=True)
class ValidatorReveal:
    """A validator's commitment for an epoch: stake at commit, lanes (None: never revealed) and
    the environment weights it revealed (unlisted environments weigh 0)."""

    address: str
    stake: int
    lanes: Sequence[int] | None
    env_weights: Mapping[int, int] = field(default_factory=dict)


@dataclass
class EpochOutcome:
    """What finalizing an epoch does: consensus, weights, slashes, pots, credits and the carry."""

    consensus: list[int]  # lanes
    weights: list[int]  # score * traceCount, 0 for FRAUD
    env_weights: dict[int, int]  # W per environment met
    env_batch_weights: dict[int, int]  # B per environment met
    total_env_weight: int
    agreement: dict[str, int]  # the validators' credits A
    minted: int
    carried_in: int
    miner_pot: int
    validator_pot: int
    environment_pot: int
    credits: dict[str, int] = field(default_factory=dict)  # by account
    rewards: list[Credit] = field(default_factory=list)  # every RewardCredited, in order
    miner_slashes: dict[int, int] = field(default_factory=dict)  # batch index -> amount
    validator_slashes: dict[str, int] = field(default_factory=dict)
    carry_out: int = 0

    @property
    def scores(self) -> list[int]:
        """The consensus scores (FRAUD for a fraud flag)."""
        return [lane_score(c) for c in self.consensus]


def predict_epoch(
    *,
    batches: Sequence[BatchInput],
    validators: Sequence[ValidatorReveal],
    emission: int,
    miner_bps: int,
    validator_bps: int,
    environment_bps: int,
    slash_bps: int = 0,
    miner_slash_bps: int = 0,
    stakes: Mapping[str, tuple[int, int]] | None = None,
    carry_in: int = 0,
) -> EpochOutcome:
    """Predict ``finalize`` for one epoch, to the wei.

    ``batches`` in submission order; ``validators`` in commit order; ``emission`` is the
    token's scheduled emission for the epoch (cap not reached); ``stakes`` maps miners and
    validators to ``(active, unbonding)`` stake when finalization runs (a validator missing
    from it has its commit stake active and nothing unbonding); ``carry_in`` is the carry
    before finalization. Miners of FRAUD batches are slashed ``miner_slash_bps`` during
    scoring, so their stake joins this epoch's pots; validators that never revealed are
    slashed ``slash_bps`` after paying, into the carry.
    """
    state = dict(stakes or {})
    revealed = [v for v in validators if v.lanes is not None]
    out = EpochOutcome([], [], {}, {}, 0, {v.address: 0 for v in revealed}, 0, 0, 0, 0, 0)
    carry = carry_in

    def take(account: str, bps: int, fallback: int = 0) -> int:
        staked, unbonding = state.get(account, (fallback, 0))
        amount, staked, unbonding = slash(staked, unbonding, bps)
        state[account] = (staked, unbonding)
        return amount

    if revealed:
        stake_weights = [v.stake for v in revealed]
        frauds: list[int] = []
        for b, batch in enumerate(batches):
            column = [v.lanes[b] for v in revealed if v.lanes is not None]
            consensus = weighted_median(column, stake_weights)
            env = batch.env_id
            if env not in out.env_weights:
                env_column = [v.env_weights.get(env, 0) for v in revealed]
                out.env_weights[env] = weighted_median(env_column, stake_weights)
                out.env_batch_weights[env] = 0
            score = lane_score(consensus)
            weight = 0 if score == FRAUD else score * batch.trace_count
            earned = batch.trace_count * SCORE_SCALE if score == FRAUD else weight
            if score == FRAUD:
                frauds.append(b)
            for v, lane in zip(revealed, column, strict=True):
                if lane == consensus:
                    out.agreement[v.address] += earned
            if weight:
                if out.env_batch_weights[env] == 0:
                    out.total_env_weight += out.env_weights[env]
                out.env_batch_weights[env] += weight
            out.consensus.append(consensus)
            out.weights.append(weight)
        if miner_slash_bps:
            for b in frauds:
                out.miner_slashes[b] = take(batches[b].miner, miner_slash_bps)
                carry += out.miner_slashes[b]
    validator_weight = sum(v.stake * out.agreement[v.address] for v in revealed)
    active = (miner_bps + environment_bps if out.total_env_weight else 0) + (
        validator_bps if validator_weight else 0
    )
    pot = 0
    if active:
        out.minted = emission * active // BPS
        out.carried_in, carry = carry, 0
        pot = out.minted + out.carried_in
        if out.total_env_weight:
            out.miner_pot = pot * miner_bps // active
            out.environment_pot = pot * environment_bps // active
        if validator_weight:
            out.validator_pot = pot * validator_bps // active

    def credit(account: str, role: int, subject: int, amount: int) -> None:
        if amount:
            out.credits[account] = out.credits.get(account, 0) + amount
            out.rewards.append(Credit(account, role, subject, amount))

    if out.total_env_weight:
        for index, (batch, lane) in enumerate(zip(batches, out.consensus, strict=False)):
            score, env_weight = lane_score(lane), out.env_weights[batch.env_id]
            if score in (0, FRAUD) or env_weight == 0:
                continue
            numerator = env_weight * score * batch.trace_count
            denominator = out.total_env_weight * out.env_batch_weights[batch.env_id]
            credit(batch.miner, 0, index, out.miner_pot * numerator // denominator)
            credit(batch.owner, 2, batch.env_id, out.environment_pot * numerator // denominator)
    for v in validators:
        if v.lanes is None:
            out.validator_slashes[v.address] = take(v.address, slash_bps, v.stake)
            carry += out.validator_slashes[v.address]
        elif validator_weight:
            credit(
                v.address,
                1,
                0,
                out.validator_pot * v.stake * out.agreement[v.address] // validator_weight,
            )
    out.carry_out = carry + pot - sum(out.credits.values())
    return out
