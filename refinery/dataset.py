"""The dataset a selection becomes: training rows, a pinned manifest, and exports.

Two documents are pinned for every training run:

* the **data** (JSON Lines, one row per selected trace: the chat ``messages``
  with the completion as the assistant's turn, plus where it came from);
* the **manifest** (``worldgym.dataset/1``, canonical JSON): the epochs, the
  selection settings, every batch of those epochs with what became of it
  (how many traces were selected, or why it was excluded, and what was
  dropped for which reason), every selected trace with why it ranked, and
  the CID of the data. Its CID is the ``datasetCid`` registered on chain.

:func:`write_rows` exports rows as JSON Lines or Parquet, both of which
``datasets.load_dataset("json" | "parquet", data_files=...)`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from refinery.errors import RefineryError
from refinery.files import atomic_path, atomic_write, canonical_json
from refinery.selection import Selection, SelectionConfig
from storage import ContentStore
from storage.documents import DocumentError, read_document
from storage.errors import StorageError

__all__ = [
    "DATASET_SCHEMA",
    "ExportFormat",
    "PinnedDataset",
    "dataset_rows",
    "pin_dataset",
    "read_dataset_manifest",
    "read_rows",
    "write_rows",
]

DATASET_SCHEMA = "worldgym.dataset/1"
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
MAX_DATA_BYTES = 1024 * 1024 * 1024
ExportFormat = Literal["jsonl", "parquet"]


def dataset_rows(selection: Selection) -> list[dict[str, Any]]:
    """One training row per selected trace: ``messages`` and its provenance."""
    return [
        {
            "messages": s.messages,
            "env_id": s.batch.env_id,
            "env_version": s.batch.env_version,
            "epoch": s.batch.epoch,
            "batch_index": s.batch.index,
            "batch_cid": s.batch.cid,
            "miner": s.batch.miner,
            "task": s.trace.task,
            "sample": s.trace.sample,
            "score": s.trace.score,
            "consensus_bps": s.batch.consensus_bps,
        }
        for s in selection.traces
    ]


@dataclass(frozen=True)
class PinnedDataset:
    """A pinned selection: the manifest (and its CID) and the data's CID."""

    manifest_cid: str
    data_cid: str
    manifest: dict[str, Any]
    rows: list[dict[str, Any]]


def _manifest(
    selection: Selection,
    config: SelectionConfig,
    *,
    epochs: Sequence[int],
    deployment: dict[str, Any],
    parent: dict[str, Any],
    data_cid: str,
) -> dict[str, Any]:
    return {
        "schema": DATASET_SCHEMA,
        "deployment": deployment,
        "parent_model": parent,
        "epochs": sorted(epochs),
        "selection": config.model_dump(mode="json"),
        "rules": (
            "batches of finalized epochs with consensus >= min_consensus_bps; traces re-verified "
            "with score >= min_trace_score; ranked by batch consensus; one per (task, "
            "completion); miners take turns, at most max_per_miner each per "
            "environment; max_traces shared evenly across environments"
        ),
        "counts": {
            "batches": len(selection.decisions),
            "batches_used": sum(1 for d in selection.decisions if d.selected),
            "traces": len(selection.traces),
            "per_environment": {str(k): v for k, v in selection.per_environment().items()},
            "per_miner": selection.per_miner(),
            "dropped": selection.dropped,
        },
        "batches": [
            {
                "epoch": d.batch.epoch,
                "index": d.batch.index,
                "cid": d.batch.cid,
                "miner": d.batch.miner,
                "env_id": d.batch.env_id,
                "env_version": d.batch.env_version,
                "consensus_bps": d.batch.consensus_bps,
                "traces": len(d.batch.traces),
                "selected": d.selected,
                "excluded": d.excluded,
                "dropped": d.dropped,
            }
            for d in selection.decisions
        ],
        "traces": [
            {
                "batch_cid": s.batch.cid,
                "epoch": s.batch.epoch,
                "batch_index": s.batch.index,
                "task": s.trace.task,
                "sample": s.trace.sample,
                "why": s.why(),
            }
            for s in selection.traces
        ],
        "data": {"cid": data_cid, "format": "jsonl", "rows": len(selection.traces)},
    }


def pin_dataset(
    store: ContentStore,
    selection: Selection,
    config: SelectionConfig,
    *,
    epochs: Sequence[int],
    deployment: dict[str, Any],
    parent: dict[str, Any],
) -> PinnedDataset:
    """Pin the selection's data and its manifest; return both CIDs.

    ``deployment`` names the chain and contract, ``parent`` the model
    (``{"id", "cid"}``) the dataset is meant to fine-tune.
    """
    rows = dataset_rows(selection)
    data = b"".join(canonical_json(row) + b"\n" for row in rows)
    try:
        data_cid = store.put_bytes(data, pin=True)
        manifest = _manifest(
            selection, config, epochs=epochs, deployment=deployment, parent=parent,
            data_cid=data_cid,
        )  # fmt: skip
        manifest_cid = store.put_bytes(canonical_json(manifest), pin=True)
    except StorageError as exc:
        raise RefineryError(f"cannot pin the dataset: {exc}") from None
    return PinnedDataset(manifest_cid, data_cid, manifest, rows)


def read_dataset_manifest(store: ContentStore, cid: str) -> dict[str, Any]:
    """The ``worldgym.dataset/1`` manifest at ``cid`` (verified by the store, shape-checked)."""
    try:
        raw, _ = read_document(
            store, cid, DATASET_SCHEMA, max_bytes=MAX_MANIFEST_BYTES,
            what="dataset manifest", noun="manifest",
        )  # fmt: skip
    except DocumentError as exc:
        raise RefineryError(str(exc)) from None
    epochs, data = raw.get("epochs"), raw.get("data")
    if not (
        isinstance(epochs, list)
        and all(isinstance(e, int) and e >= 0 for e in epochs)
        and isinstance(data, dict)
        and isinstance(data.get("cid"), str)
    ):
        raise RefineryError(f"dataset manifest {cid} has malformed epochs or data")
    return raw


def read_rows(store: ContentStore, data_cid: str) -> list[dict[str, Any]]:
    """The JSON Lines rows of a pinned dataset."""
    try:
        data = store.get_bytes(data_cid, max_bytes=MAX_DATA_BYTES)
        rows = [json.loads(line) for line in data.splitlines() if line.strip()]
    except StorageError as exc:
        raise RefineryError(f"cannot read dataset {data_cid}: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RefineryError(f"dataset {data_cid} is not JSON Lines") from None
    if not all(isinstance(r, dict) and isinstance(r.get("messages"), list) for r in rows):
        raise RefineryError(f"dataset {data_cid} has rows without messages")
    return rows


def write_rows(rows: Sequence[dict[str, Any]], path: Path, fmt: ExportFormat) -> Path:
    """Write ``rows`` to ``path`` as JSON Lines or Parquet, atomically; return ``path``."""
    if fmt == "jsonl":
        return atomic_write(path, b"".join(canonical_json(r) + b"\n" for r in rows))
    if fmt != "parquet":
        raise RefineryError(f"unknown export format {fmt!r}: use jsonl or parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(list(rows)), tmp)
    return Path(path)
