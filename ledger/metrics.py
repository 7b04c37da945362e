"""Finding a registered model's metrics: the chain holds only their digest.

The refinery registers ``keccak256`` of its metrics document's canonical JSON
(:func:`refinery.files.canonical_json`) as the model's ``metricsDigest`` and,
once the model is registered, records the document in its round history
(``<refinery_dir>/history.json``, entries with ``model_id`` and ``metrics``;
see :mod:`refinery.curve`). This module reads that history, again whenever
the file changes, and marks a document *verified* when it hashes to the
on-chain digest. Anything unreadable simply means "no metrics".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_utils import keccak

from ledger.queries import MetricsResolver
from ledger.reports import ModelRow
from refinery.curve import HISTORY_NAME
from refinery.files import canonical_json

__all__ = [
    "MAX_HISTORY_BYTES",
    "canonical_digest",
    "history_path",
    "load_rounds",
    "metrics_resolver",
]

MAX_HISTORY_BYTES = 16 << 20


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


def metrics_resolver(refinery_dir: Path | None) -> MetricsResolver:
    """A resolver for :meth:`Ledger.models` over the refinery's history in ``refinery_dir``
    (read again whenever the file changes, so a long-running dashboard sees new rounds)."""
    path = history_path(refinery_dir)
    cache: dict[str, Any] = {"stamp": None, "by_model": {}}

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

    def resolve(row: ModelRow) -> tuple[dict[str, Any], bool, str] | None:
        metrics = by_model().get(row.model_id)
        if metrics is None:
            return None
        return metrics, canonical_digest(metrics) == row.metrics_digest, HISTORY_NAME

    return resolve
