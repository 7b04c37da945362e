"""The miner: derive tasks, sample traces with the current model, spool, pin and submit batches.

See :mod:`worldgym.miner.loop` (the loop), :mod:`worldgym.miner.spool` (durability),
:mod:`worldgym.miner.submit` (submit once, recover after a crash) and
:mod:`worldgym.miner.build` (from seed to ``worldgym.batch/1``).
"""

from __future__ import annotations

from worldgym.miner.build import BatchPlan, build_batch, derive_tasks
from worldgym.miner.errors import MinerError, SpoolError
from worldgym.miner.loop import Miner, MiningConfig
from worldgym.miner.spool import BatchState, Spool, SpoolEntry
from worldgym.miner.submit import Submitter

__all__ = [
    "BatchPlan",
    "BatchState",
    "Miner",
    "MinerError",
    "MiningConfig",
    "Spool",
    "SpoolEntry",
    "SpoolError",
    "Submitter",
    "build_batch",
    "derive_tasks",
]
