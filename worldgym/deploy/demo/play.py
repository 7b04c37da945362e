"""One epoch of the whole network: mine, commit, reveal, finalize, claim.

The chain is anvil with automine, so blocks advance with transactions; the
demo moves between windows with ``DevChain.mine_to`` (as time would on a real
network) and lets every actor act in each window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.console import Console

from worldgym.chain.contracts import Window
from worldgym.deploy.demo.network import Actor, DemoNetwork
from worldgym.miner import BatchState, Miner
from worldgym.validator import Validator

__all__ = ["EpochSummary", "play_epoch"]


@dataclass
class EpochSummary:
    """What happened in one epoch."""

    epoch: int
    batches: int = 0
    traces: int = 0
    consensus: list[int] = field(default_factory=list)
    claimed: dict[str, int] = field(default_factory=dict)


def play_epoch(
    net: DemoNetwork,
    miners: list[Miner],
    validators: list[Validator],
    claimants: list[Actor],
    *,
    silent: set[str] | None = None,
    console: Console,
    timings: dict[str, float] | None = None,
) -> EpochSummary:
    """Mine the current epoch, then take it through commit, reveal and finalization.

    Validators whose address is in ``silent`` commit but never reveal (to show slashing).
    ``timings`` gets the seconds spent mining and validating added to it.
    """
    started = time.monotonic()
    chain = net.chain
    epoch = chain.current_epoch()
    summary = EpochSummary(epoch)
    for miner in miners:
        for entry in miner.mine_epoch():
            if entry.state == BatchState.CONFIRMED:
                summary.batches += 1
                summary.traces += entry.trace_count
    console.print(f"epoch {epoch}: {summary.batches} batches, {summary.traces} traces submitted")
    mined = time.monotonic()

    chain.mine_to(chain.window_opens(epoch, Window.COMMIT))
    for v in validators:
        v.step()
    chain.mine_to(chain.window_opens(epoch, Window.REVEAL))
    for v in validators:
        if v.address not in (silent or set()):
            v.step()
    chain.mine_to(chain.window_opens(epoch, Window.FINALIZE))
    for v in validators:
        v.step()
    summary.consensus = [chain.consensus(epoch, i) for i in range(chain.batch_count(epoch))]
    for actor in claimants:
        amount = actor.protocol.claimable(actor.address)
        if amount:
            summary.claimed[actor.name] = actor.protocol.claim()
    console.print(f"epoch {epoch}: consensus scores (bps) {summary.consensus}")
    if timings is not None:
        timings["mine"] = timings.get("mine", 0.0) + mined - started
        timings["validate"] = timings.get("validate", 0.0) + time.monotonic() - mined
    return summary
