"""Lazy validators: they commit and reveal like everyone, without doing (all of) the work.

Each is paid, if at all, by the contract's rule: for every batch whose
consensus lane (score and digest) it revealed exactly, the batch's weight
(docs/protocol-v2.md §4). ``bench/attacks.py`` compares their pay per unit of
stake with honest validators'.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from worldgym.chain.contracts import Protocol, Window
from worldgym.chain.protocol_math import (
    SCORE_SCALE,
    commitment,
    default_env_weights,
    make_lane,
    pack_env_weights,
    pack_lanes,
)
from worldgym.deploy.devchain import DevChain

__all__ = ["LAZY", "LazyValidator"]

# (epoch, batch count, the chain) -> the lanes to reveal
LaneGuess = Callable[[int, int, DevChain], list[int]]


def _zeros(epoch: int, n: int, chain: DevChain) -> list[int]:
    del epoch, chain
    return [make_lane(0, 0)] * n


def _full_marks(epoch: int, n: int, chain: DevChain) -> list[int]:
    del epoch, chain
    return [make_lane(SCORE_SCALE, 0)] * n


def _copy_last_epoch(epoch: int, n: int, chain: DevChain) -> list[int]:
    """The last epoch with batches: its consensus lane of the batch at the same index."""
    last = next((e for e in range(epoch - 1, -1, -1) if chain.batch_count(e) > 0), None)
    if last is None:
        return _zeros(epoch, n, chain)
    before = chain.batch_count(last)
    return [chain.consensus_lane(last, i) if i < before else 0 for i in range(n)]


LAZY: dict[str, LaneGuess] = {
    "lazy validator: all zeros": _zeros,
    "lazy validator: full marks": _full_marks,
    "lazy validator: copies last epoch": _copy_last_epoch,
}


@dataclass
class LazyValidator:
    """Reveals ``guess``'s lanes and full weight for every environment; scores nothing."""

    name: str
    protocol: Protocol
    chain: DevChain
    guess: LaneGuess
    _salts: dict[int, tuple[list[int], list[int], bytes]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        """The validator's address."""
        assert self.protocol.sender is not None
        return self.protocol.sender.address

    def step(self) -> None:
        """Act in whichever window of the last epoch is open: commit, or reveal."""
        epoch = self.chain.current_epoch() - 1
        if epoch < 0:
            return
        opens, closes = self.protocol.window(epoch, Window.COMMIT)
        block = self.chain.w3.eth.block_number
        if opens <= block < closes and epoch not in self._salts:
            n = self.chain.batch_count(epoch)
            lanes = self.guess(epoch, n, self.chain)
            envs = sorted({r.env_id for r in self.chain.batches(epoch)})
            weights = pack_env_weights(default_env_weights(envs))
            salt = os.urandom(32)
            packed = pack_lanes(lanes)
            self._salts[epoch] = (packed, weights, salt)
            self.protocol.commit(epoch, commitment(epoch, self.address, packed, weights, salt))
            return
        opens, closes = self.protocol.window(epoch, Window.REVEAL)
        if opens <= block < closes and epoch in self._salts:
            packed, weights, salt = self._salts.pop(epoch)
            self.protocol.reveal(epoch, packed, weights, salt)
