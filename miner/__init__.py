"""The miner: derive tasks, sample traces with the current model, spool, pin and submit batches.

See :mod:`miner.loop` (the loop), :mod:`miner.spool` (durability),
:mod:`miner.submit` (submit once, recover after a crash) and
:mod:`miner.build` (from seed to ``worldgym.batch/1``).
"""

from __future__ import annotations

from miner.build import BatchPlan, build_batch, derive_tasks
from miner.errors import MinerError, SpoolError
from miner.loop import Miner, MiningConfig
from miner.spool import BatchState, Spool, SpoolEntry
from miner.submit import Submitter

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
