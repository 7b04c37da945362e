"""The demo's script (see :mod:`worldgym.deploy.demo`)."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.rule import Rule
from web3 import Web3

from worldgym.core.amounts import WAD, format_wgt
from worldgym.deploy.anvil import AnvilProcess
from worldgym.deploy.demo.books import DemoBooks
from worldgym.deploy.demo.network import DemoNetwork
from worldgym.deploy.demo.play import EpochSummary, play_epoch
from worldgym.deploy.demo.report import (
    evaluate_lineage,
    print_lineage,
    print_payouts,
    refine_config,
)
from worldgym.deploy.devchain import DevChain
from worldgym.gym import load_environment
from worldgym.gym.environment import load_spec
from worldgym.gym.environments import example_path
from worldgym.ledger.check import CheckReport
from worldgym.miner import MiningConfig
from worldgym.policy import load_policy
from worldgym.refinery.curve import CURVE_NAME
from worldgym.refinery.pretrain import pretrain_tiny
from worldgym.refinery.service import Refinery

__all__ = ["DemoOptions", "DemoResult", "play", "run"]

_TINY_BUDGET = 32  # tokens: sums' own budget; the tiny model's answers are shorter


@dataclass(frozen=True)
class DemoOptions:
    """The demo's options (``worldgym demo --help``)."""

    rounds: int = 3  # mine / validate / refine rounds
    tasks: int = 192  # tasks per batch
    data_dir: Path | None = None  # keep the demo's data here (default: a temporary directory)
    port: int = 0  # the dashboard's port (0: a free one)
    keep: bool = False  # leave anvil and the dashboard up until Ctrl-C


@dataclass
class DemoResult:
    """What the demo did, read back from the chain and the ledger."""

    epochs: list[EpochSummary] = field(default_factory=list)
    payouts: dict[str, int] = field(default_factory=dict)
    stakes_before: dict[str, int] = field(default_factory=dict)
    stakes: dict[str, int] = field(default_factory=dict)
    models: int = 0
    lineage_pass_at_1: dict[int, float] = field(default_factory=dict)
    ledger_check: CheckReport | None = None
    dashboard_url: str = ""
    dashboard_top_miners: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # wall-clock time per phase

    def lap(self, phase: str, since: float) -> float:
        """Add the time since ``since`` to ``phase``; return now (the next lap's start)."""
        now = time.monotonic()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + now - since
        return now

    @property
    def ledger_check_ok(self) -> bool:
        """Whether the ledger reconciled with the contracts."""
        return self.ledger_check is not None and self.ledger_check.ok


def _read_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def run(args: DemoOptions, data_dir: Path, console: Console) -> DemoResult:
    """Play the demo in ``data_dir``; return what happened.

    With ``args.keep`` anvil and the dashboard stay up until Ctrl-C.
    """
    started = time.monotonic()
    node = AnvilProcess().start()
    books: DemoBooks | None = None
    result = DemoResult()
    try:
        chain = DevChain.deploy(Web3(Web3.HTTPProvider(node.url)))
        console.print(f"[bold]WorldGym devnet[/] at {node.url} (chain {chain.deployment.chain_id})")
        net = DemoNetwork(chain, data_dir, console)
        refinery_dir = data_dir / "refinery"
        books = DemoBooks(net, data_dir / "ledger.db", refinery_dir)
        dashboard = books.serve(args.port)
        console.print(f"[bold]dashboard[/] at {dashboard.url} (live while the demo runs)")
        creator = net.actor("creator", "environment owner", wgt=1_000 * WAD)
        bond = chain.deployment.params.miner_stake
        miners = [net.actor(f"miner-{c}", "miner", wgt=bond) for c in "ab"]
        for m in miners:
            m.protocol.bond_miner()  # a miner needs its bond staked to submit
        console.print(f"  miners bonded {format_wgt(bond, places=0)} each")
        stakes = (3_000, 2_000, 1_200)
        validators = [
            net.actor(f"validator-{c}", "validator", wgt=s * WAD)
            for c, s in zip("abc", stakes, strict=True)
        ]
        for v, s in zip(validators, stakes, strict=True):
            v.protocol.stake(s * WAD)
        console.print(f"  validators staked {', '.join(f'{s:,}' for s in stakes)} WGT")
        env_ids = [  # arithmetic's budget (1,024 tokens) is for real models, not the tiny one
            net.register_env(creator, "sums"),
            net.register_env(creator, "arithmetic", max_tokens=_TINY_BUDGET),
        ]

        lap = result.lap("setup", started)
        console.print(Rule("foundation: a tiny model, pre-trained briefly"))
        base_dir = data_dir / "base-model"
        sums = load_environment(load_spec(example_path("sums")))
        pretrain_tiny(base_dir, sums)
        refinery = net.actor("refinery", "refinery")
        role = chain.models.functions.REFINERY_ROLE().call()
        chain.send(chain.deployer, chain.models, "grantRole", role, refinery.address)
        base = net.register_model(base_dir, refinery)
        console.print(f"  model {base.id}: the base model, pinned at {base.cid}")
        config = refine_config()
        refiner = Refinery(refinery.protocol, net.store, refinery_dir, config, log=console.print)
        result.stakes_before = {v.name: s * WAD for v, s in zip(validators, stakes, strict=True)}
        lap = result.lap("pretrain", lap)
        mining = MiningConfig(env_ids=tuple(env_ids), tasks_per_batch=args.tasks)
        for round_ in range(1, args.rounds + 1):
            console.print(Rule(f"round {round_}"))
            policy = load_policy("transformers", net.latest_model().path, batch_size=64)
            result.epochs.append(
                play_epoch(
                    net,
                    [net.miner(m, mining, policy) for m in miners],
                    [net.validator(v) for v in validators],
                    [creator, *miners, *validators],
                    silent={validators[2].address} if round_ == 1 else set(),
                    console=console,
                    timings=result.seconds,
                )
            )
            lap = time.monotonic()
            outcome = refiner.run_once()
            console.print(f"refinery: {outcome.message}")
            lap = result.lap("refine", lap)

        console.print(Rule("the books"))
        print_payouts(net, console)
        result.lineage_pass_at_1 = evaluate_lineage(
            net, env_ids[0], data_dir / "models", config.eval
        )
        print_lineage(net, refinery_dir, result.lineage_pass_at_1, "sums", console)
        curve = refinery_dir / CURVE_NAME
        if curve.exists():
            console.print(f"learning curve: {curve}")
        result.ledger_check = books.print_and_check(console)
        for actor in net.actors:
            result.payouts[actor.name] = int(chain.gym.functions.claimedBy(actor.address).call())
            result.stakes[actor.name] = chain.stake_of(actor.address)
        result.models = chain.latest_model_id()
        result.dashboard_url = dashboard.url
        result.dashboard_top_miners = _read_json(dashboard.url + "api/top?role=miner")["rows"]
        result.lap("books", lap)
        phases = ", ".join(f"{name} {secs:.0f} s" for name, secs in result.seconds.items())
        console.print(f"demo finished in {time.monotonic() - started:.0f} s ({phases})")
        if args.keep:
            console.print(
                f"[bold]dashboard[/] at {dashboard.url}, anvil at {node.url}: "
                "both stay up until Ctrl-C"
            )
            _wait_for_ctrl_c()
        else:
            console.print(
                f"dashboard was at {dashboard.url} (`make demo KEEP=1` keeps it and anvil up)"
            )
        return result
    finally:
        if books is not None:
            books.stop()
        node.stop()


def _wait_for_ctrl_c() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def play(args: DemoOptions, console: Console | None = None) -> DemoResult:
    """``worldgym demo`` (``make demo``): :func:`run` in ``args.data_dir`` or a temporary
    directory that is removed afterwards."""
    # A `kill` ends the demo as Ctrl-C does: every process it started is stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    console = console or Console()
    if args.data_dir is not None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        return run(args, args.data_dir, console)
    tmp = Path(tempfile.mkdtemp(prefix="worldgym-demo-"))
    try:
        return run(args, tmp, console)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
