"""What ``worldgym model list | show`` prints: a model's record, lineage, dataset and metrics.

The chain holds each model's parent, checkpoint CID, dataset manifest CID and
the keccak256 of its metrics document. The dataset manifest is read from the
store by its CID; the metrics document from inside the checkpoint
(:func:`worldgym.policy.metrics.checkpoint_metrics`), checked against the digest, so
any machine that reaches the store can show it.
"""

from __future__ import annotations

from typing import Any

from worldgym.chain.contracts import Protocol
from worldgym.policy.errors import CheckpointError
from worldgym.policy.metrics import checkpoint_metrics
from worldgym.refinery.dataset import read_dataset_manifest
from worldgym.refinery.errors import RefineryError
from worldgym.storage import ContentStore, cid_from_bytes
from worldgym.storage.errors import CidError

__all__ = ["MAX_LINEAGE", "describe_model", "lineage"]

MAX_LINEAGE = 256


def lineage(protocol: Protocol, model_id: int) -> list[int]:
    """``[model_id, parent, grandparent, ...]`` back to the base model (at most 256)."""
    chain: list[int] = []
    current = model_id
    while current != 0 and len(chain) < MAX_LINEAGE:
        chain.append(current)
        current = protocol.model(current).parent_id
    return chain


def _cid(binary: bytes) -> str | None:
    if not binary:
        return None
    try:
        return cid_from_bytes(binary)
    except CidError:
        return "0x" + binary.hex()


def describe_model(protocol: Protocol, store: ContentStore | None, model_id: int) -> dict[str, Any]:
    """``model_id`` as JSON-ready data; with ``store``, its dataset and metrics."""
    record = protocol.model(model_id)
    report: dict[str, Any] = {
        "id": model_id,
        "parent": record.parent_id,
        "registrar": record.registrar,
        "block": record.registered_at,
        "checkpoint": _cid(record.checkpoint_cid),
        "dataset": _cid(record.dataset_cid),
        "metrics_digest": "0x" + record.metrics_digest.hex(),
        "notes": [],
    }
    if store is None:
        return report
    if report["dataset"] is not None:
        try:
            manifest = read_dataset_manifest(store, report["dataset"])
            counts = manifest.get("counts", {})
            report["dataset_summary"] = {
                "epochs": manifest["epochs"],
                "traces": counts.get("traces"),
                "batches": counts.get("batches"),
                "batches_used": counts.get("batches_used"),
                "per_environment": counts.get("per_environment"),
                "parent_model": manifest.get("parent_model"),
            }
        except RefineryError as exc:
            report["notes"].append(f"dataset manifest unreadable: {exc}")
    if any(record.metrics_digest):
        try:
            metrics = checkpoint_metrics(store, report["checkpoint"], record.metrics_digest)
        except CheckpointError as exc:
            report["notes"].append(f"metrics unreadable: {exc}")
        else:
            if metrics is None:
                report["notes"].append("the checkpoint carries no metrics document")
            else:
                report["metrics"] = metrics
    return report
