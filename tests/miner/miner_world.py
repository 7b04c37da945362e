"""The world a miner test runs in: a devnet, a store, a registered model and environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from rich.console import Console

from client.contracts import Protocol
from client.tx import TxSender
from deploy.devchain import DevChain
from miner import Miner, MiningConfig, Spool, Submitter
from policy.checkpoint import ModelHandle
from policy.hf import TransformersPolicy
from storage import ContentStore

__all__ = ["World"]


@dataclass
class World:
    """Everything a miner test touches."""

    chain: DevChain
    store: ContentStore
    model: ModelHandle
    env_id: int
    account: LocalAccount
    protocol: Protocol
    sender: TxSender
    root: Path

    def spool(self) -> Spool:
        return Spool(self.root / "spool")

    def miner(
        self, policy: TransformersPolicy, store: ContentStore | None = None, **config: object
    ) -> tuple[Miner, Spool]:
        spool = self.spool()
        submitter = Submitter(self.protocol, self.sender, store or self.store, spool)
        settings = MiningConfig(
            env_ids=(self.env_id,),
            **{"tasks_per_batch": 3, "group_size": 2, "max_new_tokens": 12, **config},  # type: ignore[arg-type]
        )
        miner = Miner(
            self.protocol,
            submitter,
            spool,
            policy=policy,
            model=self.model,
            config=settings,
            console=Console(quiet=True),
            spec_store=self.store,
            sleep=lambda _s: None,
        )
        return miner, spool
