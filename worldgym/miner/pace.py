"""Sizing work to the epoch: how long a task takes here, and how long the window has left.

A batch only earns if it lands before its epoch's submission window closes,
and the window is counted in blocks. :class:`Pace` turns the blocks left into
wall-clock seconds (the chain's measured block time, less a margin of blocks
kept for pinning and submitting); :class:`TaskTimer` remembers how long a
task of each environment took with this model. The loop builds only the
tasks that fit, or says why none do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from worldgym.chain.contracts import Protocol, Window

__all__ = ["Pace", "TaskTimer"]


@dataclass(frozen=True)
class Pace:
    """The submission window of one epoch, as wall-clock time from ``read_at``."""

    opens: int
    closes: int
    head: int
    block_s: float | None  # None: blocks come only with transactions (no deadline in time)
    margin_blocks: int
    read_at: float
    clock: Callable[[], float]

    @classmethod
    def read(
        cls, protocol: Protocol, epoch: int, margin_blocks: int, clock: Callable[[], float]
    ) -> Pace:
        """The pace of ``epoch``'s submission window, read from the chain now."""
        opens, closes = protocol.window(epoch, Window.SUBMIT)
        return cls(
            opens, closes, protocol.block_number(), protocol.block_seconds(), margin_blocks,
            clock(), clock,
        )  # fmt: skip

    def seconds_left(self) -> float | None:
        """Seconds until the last block a batch may still be sent for (None: no deadline).

        A transaction sent now lands in the next block, and the window's last block is
        ``closes - 1``; ``margin_blocks`` of those are kept for pinning and submitting.
        """
        if self.block_s is None:
            return None
        blocks = self.closes - 1 - self.margin_blocks - self.head
        return blocks * self.block_s - (self.clock() - self.read_at)

    def epoch_seconds(self) -> float | None:
        """Seconds a whole submission window gives, less the margin (None: no deadline)."""
        if self.block_s is None:
            return None
        return (self.closes - self.opens - self.margin_blocks) * self.block_s


@dataclass
class TaskTimer:
    """Seconds per task, by (environment id, version), as last measured with this model.

    A one-task probe is measured alone, which overestimates a batched task: it never
    replaces a measurement of several tasks.
    """

    _seen: dict[tuple[int, int], tuple[float, int]] = field(default_factory=dict)

    def record(self, key: tuple[int, int], tasks: int, seconds: float) -> None:
        """``tasks`` tasks of ``key`` took ``seconds``."""
        if tasks < 1:
            return
        known = self._seen.get(key)
        if known is not None and tasks == 1 and known[1] > 1:
            return
        self._seen[key] = (seconds / tasks, tasks)

    def seconds_per_task(self, key: tuple[int, int]) -> float | None:
        """The last measurement for ``key`` (None before any)."""
        known = self._seen.get(key)
        return None if known is None else known[0]
