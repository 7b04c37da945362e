"""The demo's cast on a local chain: wallets with encrypted keystores, miners and validators.

Every actor has its own key in ``<data_dir>/keystore`` (v3 keystores; the
demo's passwords are random and live only in memory), its own ETH for gas and
WGT, and signs its own transactions, exactly as separate people would.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount
from rich.console import Console

from worldgym.chain.contracts import Protocol
from worldgym.chain.messages import protocol_decoder
from worldgym.chain.tx import TxSender
from worldgym.client.wallet import Keystore
from worldgym.core.amounts import WAD
from worldgym.deploy.devchain import DevChain
from worldgym.gym.environment import load_spec
from worldgym.gym.environments import example_path
from worldgym.gym.registry import pin_spec
from worldgym.miner import Miner, MiningConfig, Spool, Submitter
from worldgym.policy import Policy
from worldgym.policy.checkpoint import ModelHandle, register_checkpoint, resolve_model
from worldgym.storage import ContentStore, StoreSettings, open_store
from worldgym.validator import BatchScorer, Validator, ValidatorConfig, ValidatorState

__all__ = ["Actor", "DemoNetwork"]


@dataclass
class Actor:
    """One participant: a name, a role, its key and a Protocol that signs as it."""

    name: str
    role: str
    account: LocalAccount = field(repr=False)
    protocol: Protocol = field(repr=False)

    @property
    def address(self) -> str:
        """The actor's address."""
        return str(self.account.address)


class DemoNetwork:
    """A devnet, the embedded store under ``data_dir`` and the people using them."""

    def __init__(self, chain: DevChain, data_dir: Path, console: Console) -> None:
        self.chain = chain
        self.data_dir = data_dir
        self.console = console
        self.store: ContentStore = open_store(StoreSettings(path=data_dir / "store"))
        self.keystore = Keystore(data_dir / "keystore")
        self.actors: list[Actor] = []
        self.models_dir = data_dir / "models"

    def actor(self, name: str, role: str, *, wgt: int = 0) -> Actor:
        """A new key in the keystore, funded with ETH for gas and ``wgt`` tokens."""
        password = secrets.token_urlsafe(16)
        info = self.keystore.create(password, name=name, light_kdf=True)
        account = self.keystore.unlock(info.address, password)
        w3 = self.chain.w3
        w3.provider.make_request("anvil_setBalance", [account.address, hex(10 * WAD)])  # type: ignore[arg-type]
        if wgt:
            self.chain.fund(account.address, wgt)
        sender = TxSender(w3, account, decoder=protocol_decoder())
        actor = Actor(name, role, account, Protocol(w3, self.chain.deployment, sender))
        self.actors.append(actor)
        return actor

    def register_env(self, owner: Actor, example: str, *, max_tokens: int | None = None) -> int:
        """Pin the example spec and register it as ``owner`` (who pays the bond).

        ``max_tokens`` replaces the spec's token budget: the budget is the
        spec's, not the miner's, and a tiny model that never stops would
        otherwise sample every token of a budget meant for real models.
        """
        spec = load_spec(example_path(example))
        if max_tokens is not None:
            spec = type(spec).model_validate(
                {**spec.model_dump(by_alias=True), "max_tokens": max_tokens}
            )
        cid, binary = pin_spec(self.store, spec)
        env_id = owner.protocol.register_environment(binary)
        budget = f", {spec.max_tokens} tokens" if max_tokens is not None else ""
        self.console.print(f"  environment {env_id}: {example!r}{budget} by {owner.name} ({cid})")
        return env_id

    def register_model(self, model_dir: Path, refinery: Actor) -> ModelHandle:
        """Pin a checkpoint and register it as a base model."""
        return register_checkpoint(refinery.protocol, self.store, model_dir)

    def latest_model(self) -> ModelHandle:
        """The latest registered model, fetched and verified from the store."""
        return resolve_model(self.chain, self.store, self.models_dir)

    def miner(self, actor: Actor, config: MiningConfig, policy: Policy) -> Miner:
        """A miner for ``actor`` with its own spool, mining with ``policy``."""
        spool = Spool(self.data_dir / "miner" / actor.address.lower())
        sender = actor.protocol.sender
        assert isinstance(sender, TxSender)
        submitter = Submitter(actor.protocol, sender, self.store, spool)
        return Miner(
            actor.protocol, submitter, spool, policy=policy, model=self.latest_model(),
            config=config, console=Console(quiet=True),
        )  # fmt: skip

    def validator(self, actor: Actor) -> Validator:
        """A validator for ``actor`` with its own state file."""
        scorer = BatchScorer(actor.protocol, self.store, self.models_dir, actor.address)
        state = ValidatorState(self.data_dir / "validator" / f"{actor.address.lower()}.db")
        return Validator(
            actor.protocol, scorer, state, ValidatorConfig(finalize_chunk=16),
            console=Console(quiet=True),
        )  # fmt: skip
