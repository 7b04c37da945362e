"""Typed access to the deployed WorldGym contracts.

:class:`Protocol` binds a Web3 connection, a deployment manifest and (for
writes) a :class:`Sender`; its methods return plain Python values and
dataclasses instead of raw tuples. Reads go straight to the node; writes are
encoded here and handed to the sender, which signs, sends and waits (see
``worldgym.chain.tx``). Event history used by the actors (a given epoch's batches) is
read with ``eth_getLogs`` over exactly the blocks where it can be.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import Any, TypeVar
from typing import Protocol as TypingProtocol

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import RPCEndpoint, TxReceipt

from worldgym.chain.artifacts import load_artifact
from worldgym.chain.manifest import Deployment
from worldgym.chain.messages import protocol_decoder
from worldgym.chain.protocol_math import lane_score
from worldgym.chain.tx import call
from worldgym.core.amounts import format_wgt
from worldgym.core.errors import UsageError, WorldGymError

__all__ = [
    "REFINERY_ROLE",
    "BatchRecord",
    "CommitmentRecord",
    "EnvWeightRecord",
    "EnvironmentRecord",
    "MinerBond",
    "ModelRecord",
    "Protocol",
    "Sender",
    "Stage",
    "Window",
]


T = TypeVar("T")

REFINERY_ROLE = "REFINERY_ROLE"
"""The ModelRegistry role that may register models (``keccak256("REFINERY_ROLE")``)."""


class Sender(TypingProtocol):
    """Signs and sends transactions for one account and waits for each receipt."""

    @property
    def address(self) -> str:
        """The sending account."""
        ...

    def send(self, tx: dict[str, Any]) -> TxReceipt:
        """Send ``tx`` (no ``to`` for a contract creation); return its successful receipt."""
        ...


class Window(IntEnum):
    """``IWorldGym.Window``."""

    SUBMIT = 0
    COMMIT = 1
    REVEAL = 2
    FINALIZE = 3


class Stage(IntEnum):
    """``IWorldGym.Stage``."""

    SCORING = 0
    SETTLING = 1
    PAYING_BATCHES = 2
    PAYING_VALIDATORS = 3
    FINALIZED = 4


@dataclass(frozen=True)
class BatchRecord:
    """A batch as submitted on chain (from its ``BatchSubmitted`` event)."""

    epoch: int
    index: int
    miner: str
    env_id: int
    env_version: int
    sequence: int
    trace_count: int
    model_id: int
    cid: bytes
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class EnvironmentRecord:
    """An environment's on-chain record."""

    env_id: int
    owner: str
    version_count: int
    active: bool
    deactivated_at: int
    bond: int


@dataclass(frozen=True)
class ModelRecord:
    """A registered model: its checkpoint, parent, dataset and metrics digest."""

    model_id: int
    parent_id: int
    registrar: str
    registered_at: int
    metrics_digest: bytes
    checkpoint_cid: bytes
    dataset_cid: bytes


@dataclass(frozen=True)
class CommitmentRecord:
    """A validator's commitment for one epoch.

    ``agreement`` is its credit so far: the weight of the batches whose consensus lane it
    revealed exactly (``traceCount * 10,000`` for a FRAUD batch).
    """

    commitment: bytes
    stake: int
    revealed: bool
    agreement: int


@dataclass(frozen=True)
class EnvWeightRecord:
    """An environment's weight in one epoch (``IWorldGym.environmentWeightOf``)."""

    weight: int  # the stake-weighted median of the validators' weights
    batch_weight: int  # sum of score * traceCount over its batches that are not FRAUD
    weighed: bool  # finalization has met one of its batches


@dataclass(frozen=True)
class MinerBond:
    """A miner's active stake against the bond the protocol requires to submit."""

    miner: str
    staked: int
    required: int

    @property
    def shortfall(self) -> int:
        """What is missing (0 when bonded)."""
        return max(0, self.required - self.staked)

    @property
    def bonded(self) -> bool:
        """Whether the miner may submit."""
        return self.shortfall == 0


class Protocol:
    """The WorldGym contracts of one deployment."""

    def __init__(self, w3: Web3, deployment: Deployment, sender: Sender | None = None) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.sender = sender

    # ─── contracts ────────────────────────────────────────────────────────────

    def contract(self, name: str) -> Contract:
        """The web3 contract object of deployed contract ``name`` (an artifact name)."""
        address = self.deployment.addresses.by_contract()[name]
        return self.w3.eth.contract(
            address=to_checksum_address(address), abi=load_artifact(name).abi
        )

    @cached_property
    def token(self) -> Contract:
        """WorldGymToken."""
        return self.contract("WorldGymToken")

    @cached_property
    def registry(self) -> Contract:
        """EnvironmentRegistry."""
        return self.contract("EnvironmentRegistry")

    @cached_property
    def staking(self) -> Contract:
        """Staking."""
        return self.contract("Staking")

    @cached_property
    def models(self) -> Contract:
        """ModelRegistry."""
        return self.contract("ModelRegistry")

    @cached_property
    def gym(self) -> Contract:
        """WorldGym."""
        return self.contract("WorldGym")

    # ─── writes ───────────────────────────────────────────────────────────────

    def transact(self, contract: Contract, fn: str, *args: Any) -> TxReceipt:
        """Encode ``fn(*args)`` on ``contract`` and send it with the bound sender."""
        if self.sender is None:
            raise UsageError("this command needs a wallet to send transactions: pass --wallet")
        data = contract.encode_abi(fn, args=list(args))
        return self.sender.send({"to": contract.address, "data": data})

    def events(self, contract: Contract, event: str, receipt: TxReceipt) -> list[Any]:
        """The ``event`` logs of ``contract`` in ``receipt``."""
        return list(getattr(contract.events, event)().process_receipt(receipt, errors=DISCARD))

    def approve(self, spender: str, amount: int) -> None:
        """Approve ``spender`` for ``amount`` tokens unless the allowance already covers it."""
        owner = self._sender_address()
        if self.token.functions.allowance(owner, spender).call() < amount:
            self.transact(self.token, "approve", spender, amount)

    def pay_with_approval(self, spender: str, amount: int, action: Callable[[], T]) -> T:
        """Approve ``spender`` for ``amount`` if needed, then run ``action`` (which pulls it).

        The sender's balance is checked first, so an amount it does not have fails before
        any transaction. If ``action`` fails after an approval was sent, the allowance is
        set back to what it was: a failed two-step action leaves no approval behind.
        """
        owner = self._sender_address()
        balance = self.balance(owner)
        if amount > balance:
            raise UsageError(
                f"{owner} has {format_wgt(balance)} and cannot pay {format_wgt(amount)}: "
                "get tokens first (on a devnet: `worldgym devnet fund ADDRESS`)"
            )
        previous = int(self.token.functions.allowance(owner, spender).call())
        if previous >= amount:
            return action()
        self.transact(self.token, "approve", spender, amount)
        try:
            return action()
        except BaseException as exc:
            try:
                self.transact(self.token, "approve", spender, previous)
            except WorldGymError as undo:
                exc.add_note(
                    f"the approval of {format_wgt(amount)} to {spender} could not be withdrawn "
                    f"({undo}): revoke it with an approve of {previous}"
                )
            raise

    def submit_batch(
        self, env_id: int, env_version: int, cid: bytes, trace_count: int, model_id: int
    ) -> BatchRecord:
        """Submit a batch for the current epoch; return its on-chain record."""
        receipt = self.transact(
            self.gym, "submitBatch", env_id, env_version, cid, trace_count, model_id
        )
        (event,) = self.events(self.gym, "BatchSubmitted", receipt)
        return _batch_record(event)

    def poke_seed(self, epoch: int) -> bytes:
        """Fix the seed of ``epoch`` on chain if nobody has; return it."""
        seed = self.seed(epoch)
        if seed is None:
            self.transact(self.gym, "pokeSeed", epoch)
            seed = self.seed(epoch)
        if seed is None:
            raise UsageError(f"the seed of epoch {epoch} could not be set")
        return seed

    def commit(self, epoch: int, commitment: bytes) -> TxReceipt:
        """Commit to scores for ``epoch``."""
        return self.transact(self.gym, "commit", epoch, commitment)

    def reveal(
        self, epoch: int, packed_lanes: list[int], env_weights: list[int], salt: bytes
    ) -> TxReceipt:
        """Reveal the committed lanes and (packed) environment weights for ``epoch``."""
        return self.transact(self.gym, "reveal", epoch, packed_lanes, env_weights, salt)

    def finalize(self, epoch: int, max_steps: int) -> bool:
        """Advance finalization of ``epoch`` by up to ``max_steps``; return whether it is done."""
        self.transact(self.gym, "finalize", epoch, max_steps)
        return self.finalization(epoch)[0] is Stage.FINALIZED

    def claim(self) -> int:
        """Claim the sender's credited rewards; return the amount paid (0, without a
        transaction, when nothing is credited)."""
        if self.claimable(self._sender_address()) == 0:
            return 0
        receipt = self.transact(self.gym, "claim")
        (event,) = self.events(self.gym, "RewardClaimed", receipt)
        return int(event.args.amount)

    def stake(self, amount: int) -> None:
        """Stake ``amount`` (approving the staking contract first if needed; an approval is
        withdrawn again if the stake fails)."""
        staking = self.staking
        self.pay_with_approval(
            staking.address, amount, lambda: self.transact(staking, "stake", amount)
        )

    def bond_miner(self) -> int:
        """Stake whatever the sender lacks of the miners' bond; return the amount staked (0 if
        already bonded)."""
        missing = self.miner_bond(self._sender_address()).shortfall
        if missing:
            self.stake(missing)
        return missing

    def request_unbond(self, amount: int) -> int:
        """Start unbonding ``amount``; return the epoch it can be withdrawn from."""
        receipt = self.transact(self.staking, "requestUnbond", amount)
        (event,) = self.events(self.staking, "UnbondRequested", receipt)
        return int(event.args.releaseEpoch)

    def withdraw(self) -> int:
        """Withdraw released unbonding stake; return the amount."""
        receipt = self.transact(self.staking, "withdraw")
        (event,) = self.events(self.staking, "Withdrawn", receipt)
        return int(event.args.amount)

    def register_environment(self, spec_cid: bytes) -> int:
        """Register an environment (paying the bond); return its id."""
        registry = self.registry
        bond = int(registry.functions.registrationBond().call())
        receipt = self.pay_with_approval(
            registry.address, bond, lambda: self.transact(registry, "registerEnvironment", spec_cid)
        )
        (event,) = self.events(self.registry, "EnvironmentRegistered", receipt)
        return int(event.args.envId)

    def publish_version(self, env_id: int, spec_cid: bytes) -> int:
        """Publish a new version of ``env_id`` (owner only); return its number."""
        receipt = self.transact(self.registry, "publishVersion", env_id, spec_cid)
        (event,) = self.events(self.registry, "VersionPublished", receipt)
        return int(event.args.version)

    def transfer_environment(self, env_id: int, new_owner: str) -> None:
        """Hand ``env_id`` (royalties and bond) to ``new_owner`` (owner only)."""
        self.transact(self.registry, "transferEnvironment", env_id, to_checksum_address(new_owner))

    def deactivate_environment(self, env_id: int) -> None:
        """Stop ``env_id`` from accepting batches; starts the bond's release delay."""
        self.transact(self.registry, "deactivate", env_id)

    def withdraw_bond(self, env_id: int) -> int:
        """Recover the bond of a deactivated environment; return the amount."""
        receipt = self.transact(self.registry, "withdrawBond", env_id)
        (event,) = self.events(self.registry, "BondWithdrawn", receipt)
        return int(event.args.amount)

    def register_model(
        self, checkpoint_cid: bytes, parent_id: int, dataset_cid: bytes, metrics_digest: bytes
    ) -> int:
        """Register a model checkpoint (REFINERY_ROLE only); return its id."""
        receipt = self.transact(
            self.models, "registerModel", checkpoint_cid, parent_id, dataset_cid, metrics_digest
        )
        (event,) = self.events(self.models, "ModelRegistered", receipt)
        return int(event.args.modelId)

    def _sender_address(self) -> str:
        if self.sender is None:
            raise UsageError("this command needs a wallet to send transactions: pass --wallet")
        return to_checksum_address(self.sender.address)

    # ─── reads: clock ─────────────────────────────────────────────────────────

    def block_number(self) -> int:
        """The chain head."""
        return int(self.w3.eth.block_number)

    def block_seconds(self, span: int = 8) -> float | None:
        """Seconds per block: the mean gap between the last ``span + 1`` blocks, leaving out
        gaps far above the median (a pause of the chain, such as a node restart).

        None when blocks do not come with time: a chain younger than that, or a node that
        mines only on transactions (anvil's automine), where a window closes only when
        someone sends.
        """
        answer = self.w3.provider.make_request(RPCEndpoint("anvil_getAutomine"), [])
        if isinstance(answer, dict) and answer.get("result") is True:
            return None
        head = self.block_number()
        if head < span:
            return None
        stamps = [int(self.w3.eth.get_block(n)["timestamp"]) for n in range(head - span, head + 1)]
        gaps = sorted(b - a for a, b in itertools.pairwise(stamps))
        usual = [g for g in gaps if g <= 2 * gaps[len(gaps) // 2] + 1]  # drop a pause's gap
        mean = sum(usual) / len(usual)
        return mean if mean > 0 else None

    def current_epoch(self) -> int:
        """The current epoch, as the contract sees it at the head block."""
        return int(self.gym.functions.currentEpoch().call())

    def window(self, epoch: int, window: Window) -> tuple[int, int]:
        """Block range ``[opens, closes)`` of ``window`` of ``epoch``."""
        opens, closes = self.gym.functions.windowOf(epoch, int(window)).call()
        return int(opens), int(closes)

    def seed(self, epoch: int) -> bytes | None:
        """The seed of ``epoch``, or None while unset."""
        seed = bytes(self.gym.functions.seedOf(epoch).call())
        return None if seed == bytes(32) else seed

    # ─── reads: batches and scores ────────────────────────────────────────────

    def batch_count(self, epoch: int) -> int:
        """Batches submitted in ``epoch``."""
        return int(self.gym.functions.batchCount(epoch).call())

    def miner_batch_count(self, epoch: int, miner: str) -> int:
        """The next sequence number of ``miner`` in ``epoch`` (current epoch)."""
        return int(self.gym.functions.minerBatchCount(epoch, to_checksum_address(miner)).call())

    def batches(self, epoch: int) -> list[BatchRecord]:
        """Every batch of ``epoch`` in index order, from the events of the epoch's own blocks."""
        opens, closes = self.window(epoch, Window.SUBMIT)
        head = self.block_number()
        if opens > head:
            return []
        topic = self.w3.to_hex(epoch.to_bytes(32, "big"))
        signature = self.w3.to_hex(Web3.keccak(text=_BATCH_SUBMITTED))
        logs = self.w3.eth.get_logs(
            {
                "address": self.gym.address,
                "topics": [signature, topic],
                "fromBlock": opens,
                "toBlock": min(closes - 1, head),
            }
        )
        records = [_batch_record(self.gym.events.BatchSubmitted().process_log(log)) for log in logs]
        records.sort(key=lambda r: r.index)
        return records

    def consensus(self, epoch: int, index: int) -> int:
        """Consensus score of a batch in basis points, or ``protocol_math.FRAUD`` for a batch the
        stake majority flagged (valid once finalization scored it)."""
        return lane_score(self.consensus_lane(epoch, index))

    def consensus_lane(self, epoch: int, index: int) -> int:
        """Consensus lane of a batch, ``score << 7 | digest`` (once finalization scored it)."""
        return int(self.gym.functions.consensusOf(epoch, index).call())

    def revealed_lane(self, epoch: int, validator: str, index: int) -> int:
        """The lane ``validator`` revealed for a batch (0 if it did not reveal)."""
        return int(
            self.gym.functions.revealedLane(epoch, to_checksum_address(validator), index).call()
        )

    def env_weight(self, epoch: int, env_id: int) -> EnvWeightRecord:
        """An environment's weight in ``epoch`` (valid once finalization scored the epoch)."""
        weight, batch_weight, weighed = self.gym.functions.environmentWeightOf(epoch, env_id).call()
        return EnvWeightRecord(int(weight), int(batch_weight), bool(weighed))

    def commitment(self, epoch: int, validator: str) -> CommitmentRecord:
        """A validator's commitment for ``epoch``."""
        digest, stake, revealed, agreement = self.gym.functions.commitmentRecord(
            epoch, to_checksum_address(validator)
        ).call()
        return CommitmentRecord(bytes(digest), int(stake), bool(revealed), int(agreement))

    def finalization(self, epoch: int) -> tuple[Stage, int, int]:
        """(stage, cursor, reveal count) of ``epoch``."""
        stage, cursor, reveals = self.gym.functions.finalization(epoch).call()
        return Stage(stage), int(cursor), int(reveals)

    # ─── reads: environments ──────────────────────────────────────────────────

    def environment_count(self) -> int:
        """Environments registered (ids are 1..count)."""
        return int(self.registry.functions.environmentCount().call())

    def environment(self, env_id: int) -> EnvironmentRecord:
        """An environment's record (reverts, decoded, for an unknown id)."""
        owner, versions, active, deactivated_at, bond = self._view(
            "EnvironmentRegistry", self.registry.functions.environment(env_id)
        )
        return EnvironmentRecord(
            env_id, to_checksum_address(owner), int(versions), bool(active), int(deactivated_at),
            int(bond),
        )  # fmt: skip

    def version_cid(self, env_id: int, version: int) -> bytes:
        """The binary spec CID of a version."""
        return bytes(
            self._view("EnvironmentRegistry", self.registry.functions.versionCid(env_id, version))
        )

    def _view(self, contract: str, fn: Any) -> Any:
        """Call a view; a revert becomes a RevertError with its decoded sentence."""
        return call(fn, decoder=protocol_decoder(), contract=contract)

    # ─── reads: accounts ──────────────────────────────────────────────────────

    def balance(self, account: str) -> int:
        """Token balance."""
        return int(self.token.functions.balanceOf(to_checksum_address(account)).call())

    def claimable(self, account: str) -> int:
        """Credited, unclaimed rewards."""
        return int(self.gym.functions.claimable(to_checksum_address(account)).call())

    def stake_of(self, validator: str) -> int:
        """Active stake."""
        return int(self.staking.functions.stakeOf(to_checksum_address(validator)).call())

    def unbonding_of(self, validator: str) -> tuple[int, int, int]:
        """(amount, release epoch, pending commitments)."""
        amount, release, pending = self.staking.functions.unbondingOf(
            to_checksum_address(validator)
        ).call()
        return int(amount), int(release), int(pending)

    def miner_bond(self, miner: str) -> MinerBond:
        """``miner``'s active stake against the miners' bond (``params().minerStake``)."""
        required = int(self.gym.functions.params().call()[-1])  # the struct ends with minerStake
        return MinerBond(to_checksum_address(miner), self.stake_of(miner), required)

    def has_role(self, role: str, account: str) -> bool:
        """Whether ``account`` holds the ModelRegistry role named ``role`` (e.g. REFINERY_ROLE)."""
        role_id = Web3.keccak(text=role) if role != "DEFAULT_ADMIN_ROLE" else bytes(32)
        return bool(self.models.functions.hasRole(role_id, to_checksum_address(account)).call())

    def require_refinery(self, account: str | None = None) -> str:
        """``account`` (default: the sender) if it may register models; else a UsageError that
        names the role and how to get it. Commands check this before any work."""
        who = to_checksum_address(account) if account else self._sender_address()
        if not self.has_role(REFINERY_ROLE, who):
            raise UsageError(
                f"{who} does not hold REFINERY_ROLE on the ModelRegistry, which registering a "
                "model needs: ask the registry's admin to grant it (on a devnet: "
                "`worldgym devnet fund WALLET --refinery`, or `worldgym devnet up --refinery "
                "WALLET`)"
            )
        return who

    def latest_model_id(self) -> int:
        """The model miners should use (0 if none registered)."""
        return int(self.models.functions.latestModelId().call())

    def model(self, model_id: int) -> ModelRecord:
        """The record of a registered model (a clear error if there is none)."""
        parent, registrar, at, digest, checkpoint, dataset = self._view(
            "ModelRegistry", self.models.functions.model(model_id)
        )
        return ModelRecord(
            model_id=model_id,
            parent_id=int(parent),
            registrar=to_checksum_address(registrar),
            registered_at=int(at),
            metrics_digest=bytes(digest),
            checkpoint_cid=bytes(checkpoint),
            dataset_cid=bytes(dataset),
        )


_BATCH_SUBMITTED = (
    "BatchSubmitted(uint256,uint256,address,uint256,uint256,uint256,uint256,uint256,bytes)"
)


def _batch_record(event: Any) -> BatchRecord:
    a = event.args
    return BatchRecord(
        epoch=int(a.epoch),
        index=int(a.index),
        miner=to_checksum_address(a.miner),
        env_id=int(a.envId),
        env_version=int(a.envVersion),
        sequence=int(a.sequence),
        trace_count=int(a.traceCount),
        model_id=int(a.modelId),
        cid=bytes(a.cid),
        block_number=int(event.blockNumber),
        tx_hash=event.transactionHash.to_0x_hex(),
    )
