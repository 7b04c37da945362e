"""Finding a registered model's metrics: the chain holds only their digest.

The refinery registers ``keccak256`` of its metrics document's canonical JSON
(:func:`worldgym.core.canonical.canonical_json`) as the model's ``metricsDigest``. The
document is found, in order:

1. in the refinery's round history on this machine
   (``<refinery_dir>/history.json``, entries with ``model_id`` and ``metrics``;
   see :mod:`worldgym.refinery.curve`), read again whenever the file changes;
2. inside the model's checkpoint in storage (``worldgym-metrics.json``, see
   :func:`worldgym.policy.metrics.checkpoint_metrics`), which works on any machine
   that reaches the store; read once per checkpoint.

A document is marked *verified* when it hashes to the on-chain digest.
Anything unreadable simply means "no metrics".
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from eth_utils import keccak

from worldgym.core.canonical import canonical_json
from worldgym.ledger.queries import MetricsResolver
from worldgym.ledger.reports import ModelRow
from worldgym.policy.errors import CheckpointError
from worldgym.policy.metrics import checkpoint_metrics
from worldgym.refinery.curve import HISTORY_NAME
from worldgym.storage import ContentStore

__all__ = [
    "MAX_HISTORY_BYTES",
    "canonical_digest",
    "history_path",
    "load_rounds",
    "metrics_resolver",
]

MAX_HISTORY_BYTES = 16 << 20
_RETRY_S = 60.0


def canonical_digest(metrics: Any) -> str:
    """``0x`` keccak256 of the canonical JSON of ``metrics`` (the refinery's encoding)."""
    return "0x" + keccak(canonical_json(metrics)).hex()


def history_path(refinery_dir: Path | None) -> Path | None:
    """The refinery's round history under ``refinery_dir``."""
    return refinery_dir / HISTORY_NAME if refinery_dir is not None else None


def load_rounds(path: Path | None) -> list[dict[str, Any]]:
    """The refinery's rounds (``{"rounds": [...]}``, or a bare list); [] if absent or unreadable."""
    if path is None or not path.is_file() or path.stat().st_size > MAX_HISTORY_BYTES:
        return []
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    rounds = doc.get("rounds") if isinstance(doc, dict) else doc
    return [r for r in rounds if isinstance(r, dict)] if isinstance(rounds, list) else []


def metrics_resolver(
    refinery_dir: Path | None, store: ContentStore | None = None
) -> MetricsResolver:
    """A resolver for :meth:`Ledger.models`: the refinery's history in ``refinery_dir``, then
    the checkpoint in ``store`` (see the module docstring)."""
    path = history_path(refinery_dir)
    cache: dict[str, Any] = {"stamp": None, "by_model": {}}
    # checkpoint CID -> (its metrics or None, monotonic time after which to look again)
    from_checkpoints: dict[str, tuple[dict[str, Any] | None, float]] = {}

    def by_model() -> dict[int, dict[str, Any]]:
        try:
            stamp = path.stat().st_mtime_ns if path else None
        except OSError:
            stamp = None
        if stamp != cache["stamp"]:
            found: dict[int, dict[str, Any]] = {}
            for entry in load_rounds(path):
                model_id, metrics = entry.get("model_id"), entry.get("metrics")
                if isinstance(model_id, int) and isinstance(metrics, dict):
                    found[model_id] = metrics
            cache.update(stamp=stamp, by_model=found)
        result: dict[int, dict[str, Any]] = cache["by_model"]
        return result

    def in_checkpoint(row: ModelRow) -> dict[str, Any] | None:
        if store is None or int(row.metrics_digest, 16) == 0:  # a base model: no metrics
            return None
        known = from_checkpoints.get(row.checkpoint_cid)
        if known is not None and time.monotonic() < known[1]:
            return known[0]
        digest = bytes.fromhex(row.metrics_digest.removeprefix("0x"))
        try:
            found, until = checkpoint_metrics(store, row.checkpoint_cid, digest), math.inf
        except CheckpointError:
            # unreadable (storage may be down) or not matching the chain: no metrics for now,
            # asked again after a while rather than on every page load
            found, until = None, time.monotonic() + _RETRY_S
        from_checkpoints[row.checkpoint_cid] = (found, until)
        return found

    def resolve(row: ModelRow) -> tuple[dict[str, Any], bool, str] | None:
        metrics = by_model().get(row.model_id)
        if metrics is not None:
            return metrics, canonical_digest(metrics) == row.metrics_digest, HISTORY_NAME
        metrics = in_checkpoint(row)
        if metrics is not None:  # checkpoint_metrics checked it against the digest
            return metrics, True, f"checkpoint {row.checkpoint_cid}"
        return None

    return resolve
