"""The attack bench's world: a devnet with the real contracts, honest and dishonest actors.

One anvil, the embedded store, a tiny model warmed up on ``sums`` and
registered (then registered again ``maxModelLag + 1`` times, so that the first
registration is stale); two honest miners and one miner per attack, all
bonded; environment owners (the honest ``sums`` creator, a junk environment
whose verifier accepts anything, a coin-flip one), registered straight on the
contract as an attacker would, without ``env register``'s checks; two honest
validators, one that skips the proof of rollout, the lazy ones of
:mod:`bench.adversary.validators`, and one that commits and never reveals.

Every miner mines the same number of tasks, so rewards compare equal work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from bench.adversary.miners import STRATEGIES, honest
from bench.adversary.validators import LAZY, LazyValidator
from worldgym.chain.contracts import Window
from worldgym.chain.manifest import ProtocolParams
from worldgym.core.amounts import WAD
from worldgym.core.errors import WorldGymError
from worldgym.core.schemas import BatchDocument, ModelRef, encode_batch
from worldgym.deploy.anvil import AnvilProcess
from worldgym.deploy.demo.network import Actor, DemoNetwork
from worldgym.deploy.devchain import DevChain
from worldgym.gym import Environment, load_environment
from worldgym.gym.environment import load_spec
from worldgym.gym.environments import example_path
from worldgym.gym.spec import EnvSpec
from worldgym.miner.build import BatchPlan, spec_sampling
from worldgym.policy.checkpoint import ModelHandle, register_checkpoint
from worldgym.policy.hf import TransformersPolicy
from worldgym.storage import cid_to_bytes
from worldgym.validator import BatchScorer, Validator, ValidatorConfig, ValidatorState

__all__ = ["JUNK_VERIFIERS", "AttackWorld", "Entry"]


def _slug(name: str) -> str:
    """A wallet name for a display name ("lazy validator: zeros" -> "lazy-validator-zeros")."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:64]


JUNK_VERIFIERS = {
    "junk environment (accepts anything)": {"kind": "regex", "pattern": ".+"},
    "coin-flip environment": {"kind": "regex", "pattern": "[0-4].*"},
}


@dataclass
class Entry:
    """One miner of the bench: who, how it builds batches, and what became of them."""

    name: str
    actor: Actor
    env: str = "sums"
    build: Callable[..., BatchDocument] | None = None
    special: str = ""
    topped_up: int = 0  # bond staked again after slashes, to keep attacking
    submitted: list[str] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # epoch -> why submitBatch reverted


class AttackWorld:
    """The devnet and everyone on it; :meth:`play_epoch` runs one epoch end to end."""

    def __init__(
        self,
        data_dir: Path,
        base_model: Path,
        other_model: Path,
        *,
        tasks: int,
        miner_attacks: list[str] | None = None,
        validator_attacks: bool = True,
        env_attacks: bool = True,
        console: Console,
    ) -> None:
        self.console = console
        self.tasks = tasks
        self.node = AnvilProcess().start()
        from web3 import Web3

        self.params = ProtocolParams()
        self.chain = DevChain.deploy(Web3(Web3.HTTPProvider(self.node.url)), self.params)
        self.net = DemoNetwork(self.chain, data_dir, Console(quiet=True))
        self.declared = TransformersPolicy(base_model, batch_size=64)
        self.other = TransformersPolicy(other_model, batch_size=64)
        self.envs: dict[str, tuple[int, Environment]] = {}
        self.owners: dict[str, Actor] = {}
        self.models = self._register_models(base_model)
        self._register_env("sums", "creator", load_spec(example_path("sums")))
        if env_attacks:
            for name, verifier in JUNK_VERIFIERS.items():
                base = load_spec(example_path("sums")).model_dump(mode="json", by_alias=True)
                spec = EnvSpec.model_validate(
                    {**base, "name": "sums-" + _slug(name)[:40].lower(), "verifier": verifier}
                )
                self._register_env(name, "owner: " + name, spec)
        self.entries = [self._miner(f"honest miner {i + 1}") for i in range(2)]
        chosen = [s for s in STRATEGIES if miner_attacks is None or s.name in miner_attacks]
        self.entries += [self._miner(s.name, build=s.build) for s in chosen]
        specials = ["replayed CID", "replayed traces", "stale model"]
        self.entries += [
            self._miner(s, special=s)
            for s in specials
            if miner_attacks is None or s in miner_attacks
        ]
        if env_attacks:
            self.entries += [self._miner(n + " (its miner)", env=n) for n in JUNK_VERIFIERS]
        self.validators: list[Validator] = []
        self.lazy: list[LazyValidator] = []
        self.stakes: dict[str, int] = {}  # by address, at the start
        self.names: dict[str, str] = {}  # validators' display names by address
        self.silent: set[str] = set()
        for i, stake in enumerate((3_000, 3_000)):
            self._validator(f"honest validator {i + 1}", stake)
        if validator_attacks:
            self._validator("lazy validator: no proof of rollout", 1_000, prove=False)
            for name, guess in LAZY.items():
                actor = self._staked(name, 1_000)
                self.lazy.append(LazyValidator(name, actor.protocol, self.chain, guess))
            silent = self._validator("commits, never reveals", 1_000)
            self.silent.add(silent.address)
        self.bonds_before = {e.name: self.chain.stake_of(e.actor.address) for e in self.entries}

    # ─── setup ───────────────────────────────────────────────────────────────

    def _register_models(self, base_model: Path) -> list[ModelHandle]:
        refinery = self.net.actor("refinery", "refinery")
        role = self.chain.models.functions.REFINERY_ROLE().call()
        self.chain.send(self.chain.deployer, self.chain.models, "grantRole", role, refinery.address)
        lag = self.params.max_model_lag
        return [register_checkpoint(refinery.protocol, self.net.store, base_model)] + [
            register_checkpoint(refinery.protocol, self.net.store, base_model)
            for _ in range(lag + 1)
        ]

    def _register_env(self, name: str, owner_name: str, spec: EnvSpec) -> None:
        bond = self.params.registration_bond
        owner = self.net.actor(_slug(owner_name), "environment owner", wgt=bond)
        data = spec.canonical_bytes()  # pinned as is: no `env register` checks on this path
        cid = self.net.store.put_bytes(data, pin=True)
        env_id = owner.protocol.register_environment(cid_to_bytes(cid))
        self.owners[name] = owner
        try:
            env = load_environment(spec)
        except WorldGymError:  # the gym refuses it; its miner builds with the honest sums env
            env = self.envs["sums"][1]
        self.envs[name] = (env_id, env)

    def _miner(self, name: str, **kw: object) -> Entry:
        actor = self.net.actor(_slug(name), "miner", wgt=10 * self.params.miner_stake)
        actor.protocol.bond_miner()
        return Entry(name, actor, **kw)  # type: ignore[arg-type]

    def _staked(self, name: str, stake: int) -> Actor:
        actor = self.net.actor(_slug(name), "validator", wgt=stake * WAD)
        actor.protocol.stake(stake * WAD)
        self.stakes[actor.address] = stake * WAD
        self.names[actor.address] = name
        return actor

    def _validator(self, name: str, stake: int, *, prove: bool = True) -> Actor:
        actor = self._staked(name, stake)
        scorer = BatchScorer(
            actor.protocol, self.net.store, self.net.models_dir, actor.address, prove=prove
        )
        state = ValidatorState(self.net.data_dir / "validator" / f"{actor.address.lower()}.db")
        self.validators.append(
            Validator(
                actor.protocol,
                scorer,
                state,
                ValidatorConfig(finalize_chunk=64),
                console=Console(quiet=True),
            )
        )
        return actor

    # ─── an epoch ────────────────────────────────────────────────────────────

    def _plan(self, entry: Entry, epoch: int, seed: bytes, model: ModelHandle) -> BatchPlan:
        env_id, env = self.envs[entry.env]
        return BatchPlan(
            chain_id=self.chain.deployment.chain_id,
            contract=self.chain.gym.address,
            epoch=epoch,
            seed=seed,
            miner=entry.actor.address,
            env_id=env_id,
            env_version=1,
            sequence=self.chain.miner_batch_count(epoch, entry.actor.address),
            task_count=self.tasks,
            group_size=env.spec.group_size,
            model=ModelRef(id=model.id, digest=model.cid),
            sampling=spec_sampling(env.spec),
        )

    def _submit(self, entry: Entry, doc: BatchDocument) -> None:
        epoch = doc.header.epoch
        data = encode_batch(doc)
        cid = self.net.store.put_bytes(data, pin=True)
        h = doc.header
        try:
            entry.actor.protocol.submit_batch(
                h.env_id, h.env_version, cid_to_bytes(cid), doc.trace_count, h.model.id
            )
            entry.submitted.append(cid)
        except WorldGymError as exc:
            entry.refused[epoch] = str(exc)

    def _mine(self, epoch: int) -> None:
        seed = self.chain.as_account(self.chain.deployer).poke_seed(epoch)
        latest = self.models[-1]
        honest_docs: list[BatchDocument] = []
        for entry in self.entries:
            env = self.envs[entry.env][1]
            if entry.special == "replayed CID":
                source = self.entries[0].submitted[-1]
                doc_like = honest_docs[0]
                try:
                    entry.actor.protocol.submit_batch(
                        doc_like.header.env_id, 1, cid_to_bytes(source), doc_like.trace_count,
                        latest.id,
                    )  # fmt: skip
                    entry.submitted.append(source)
                except WorldGymError as exc:
                    entry.refused[epoch] = str(exc)
                continue
            if entry.special == "replayed traces":
                plan = self._plan(entry, epoch, seed, latest)
                stolen = honest_docs[0]
                header = stolen.header.model_copy(
                    update={"miner": plan.miner, "sequence": plan.sequence}
                )
                self._submit(entry, BatchDocument(header=header, traces=stolen.traces))
                continue
            model = self.models[0] if entry.special == "stale model" else latest
            plan = self._plan(entry, epoch, seed, model)
            build = entry.build or honest
            doc = build(plan, env, self.declared, self.other)
            if entry.build is None and entry.special == "" and entry.env == "sums":
                honest_docs.append(doc)
            self._submit(entry, doc)
            self.console.log(f"epoch {epoch}: {entry.name} submitted")

    def play_epoch(self) -> int:
        """Mine the current epoch, then commit, reveal, finalize and claim; return its number."""
        chain = self.chain
        for entry in self.entries:  # a slashed attacker bonds again to go on attacking
            entry.topped_up += entry.actor.protocol.bond_miner()
        epoch = chain.current_epoch()
        _, closes = chain.as_account(chain.deployer).window(epoch, Window.SUBMIT)
        if closes - chain.w3.eth.block_number < len(self.entries) + 4:  # room for every submission
            epoch += 1
            chain.mine_to(closes)
        self._mine(epoch)
        for window in (Window.COMMIT, Window.REVEAL, Window.FINALIZE):
            chain.mine_to(chain.window_opens(epoch, window))
            for v in self.validators:
                if window != Window.REVEAL or v.address not in self.silent:
                    for line in v.step():
                        self.console.log(f"{self.names[v.address]}: {line}")
            for lazy in self.lazy:
                lazy.step()
        return epoch

    # ─── the books ───────────────────────────────────────────────────────────

    def earned(self, actor: Actor) -> int:
        """Everything credited to ``actor`` so far (claimed or not)."""
        claimed = int(self.chain.gym.functions.claimedBy(actor.address).call())
        return claimed + self.chain.claimable(actor.address)

    def verdicts(self, epoch: int) -> dict[str, str]:
        """The first honest validator's reason for each miner's batch in ``epoch``, or why the
        miner's ``submitBatch`` reverted."""
        record = self.validators[0].state.get(epoch)
        reasons = record.reasons if record is not None else []
        out: dict[str, str] = {}
        by_address = {e.actor.address: e.name for e in self.entries}
        for batch, reason in zip(self.chain.batches(epoch), reasons, strict=False):
            out.setdefault(by_address.get(batch.miner, batch.miner), reason)
        for entry in self.entries:
            if epoch in entry.refused:
                out.setdefault(entry.name, "submitBatch reverted: " + entry.refused[epoch])
        return out

    def close(self) -> None:
        """Stop anvil and close the validators' state files."""
        for v in self.validators:
            v.state.close()
        self.node.stop()
