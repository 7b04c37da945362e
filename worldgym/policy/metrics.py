"""A model's metrics document (``worldgym.metrics/1``), as shipped in its checkpoint.

The refinery writes it (how the model and its parent did on the same held-out
tasks, the training run, the gate's decision) and registers its keccak256 as
the model's ``metricsDigest``; validators weigh environments by it and the
ledger shows it. It is canonical JSON, pinned on its own and shipped inside
the checkpoint as :data:`METRICS_FILE`, so anyone with the chain's record finds
it from the checkpoint CID alone (:func:`checkpoint_metrics`) and checks it
against the digest.
"""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from worldgym.core.canonical import canonical_json
from worldgym.policy.checkpoint import read_manifest
from worldgym.policy.errors import CheckpointError
from worldgym.storage import ContentStore
from worldgym.storage.documents import DocumentError, read_document

__all__ = [
    "MAX_METRICS_BYTES",
    "METRICS_FILE",
    "METRICS_SCHEMA",
    "checkpoint_metrics",
    "metrics_digest",
    "read_metrics",
]

METRICS_SCHEMA = "worldgym.metrics/1"
METRICS_FILE = "worldgym-metrics.json"
MAX_METRICS_BYTES = 4 * 1024 * 1024


def metrics_digest(document: dict[str, Any]) -> bytes:
    """keccak256 of the document's canonical JSON: the on-chain ``metricsDigest``."""
    return bytes(keccak(canonical_json(document)))


def checkpoint_metrics(
    store: ContentStore, checkpoint_cid: str, digest: bytes
) -> dict[str, Any] | None:
    """The metrics document shipped in the checkpoint at ``checkpoint_cid``, checked against
    the on-chain ``digest``; None when the checkpoint has none (a base model).

    Raises:
        CheckpointError: the checkpoint or the document cannot be read, or does not match.
    """
    files = read_manifest(store, checkpoint_cid)
    entry = next((f for f in files if f["path"] == METRICS_FILE), None)
    return None if entry is None else read_metrics(store, entry["cid"], digest)


def read_metrics(store: ContentStore, cid: str, digest: bytes | None = None) -> dict[str, Any]:
    """The metrics document at ``cid``, checked against the on-chain ``digest`` when given.

    Raises:
        CheckpointError: it cannot be read, is not a metrics document, or does not match.
    """
    try:
        document, data = read_document(
            store, cid, METRICS_SCHEMA, max_bytes=MAX_METRICS_BYTES,
            what="metrics document", noun="document",
        )  # fmt: skip
    except DocumentError as exc:
        raise CheckpointError(str(exc)) from None
    if digest is not None and bytes(keccak(data)) != digest:
        raise CheckpointError(f"metrics document {cid} does not hash to the registered digest")
    return document
