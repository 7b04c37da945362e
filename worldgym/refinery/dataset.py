"""The dataset a selection becomes: training rows, a pinned manifest, and exports.

Two documents are pinned for every training run:

* the **data** (JSON Lines, one row per selected trace: the chat ``messages``
  with the completion as the assistant's turn, plus where it came from; for
  GRPO also the group, the score, the sampled token ids, their behaviour
  log-probabilities and how they were sampled);
* the **manifest** (``worldgym.dataset/1``, canonical JSON): the algorithm,
  the epochs, the selection settings, every batch of those epochs with what
  became of it (how many traces were selected, or why it was excluded, and
  what was dropped for which reason), every selected trace (fine-tuning) or
  group (GRPO) with why, and the CID of the data. Its CID is the
  ``datasetCid`` registered on chain.

:func:`write_rows` exports rows as JSON Lines or Parquet, both of which
``datasets.load_dataset("json" | "parquet", data_files=...)`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from worldgym.core.canonical import canonical_json
from worldgym.core.files import durable_path, write_durably
from worldgym.refinery.config import Algorithm
from worldgym.refinery.errors import RefineryError
from worldgym.refinery.groups import GroupSelection
from worldgym.refinery.selection import Selection, SelectionConfig
from worldgym.storage import ContentStore
from worldgym.storage.documents import DocumentError, read_document
from worldgym.storage.errors import StorageError

__all__ = [
    "DATASET_SCHEMA",
    "ExportFormat",
    "PinnedDataset",
    "dataset_rows",
    "group_rows",
    "pin_dataset",
    "read_dataset_manifest",
    "read_rows",
    "write_rows",
]

DATASET_SCHEMA = "worldgym.dataset/1"
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
MAX_DATA_BYTES = 1024 * 1024 * 1024
ExportFormat = Literal["jsonl", "parquet"]

_RULES: dict[Algorithm, str] = {
    "sft": (
        "batches of finalized epochs with consensus >= min_consensus_bps; traces re-verified "
        "with score >= min_trace_score; ranked by batch consensus; one per (task, "
        "completion); miners take turns, at most max_per_miner each per "
        "environment; max_traces shared evenly across environments"
    ),
    "grpo": (
        "batches of finalized epochs with consensus >= min_consensus_bps; whole groups (every "
        "sample of a task) whose re-verified scores disagree (worldgym.gym.signal.informative, the "
        "rule rewards use); ranked by signal weight, then batch consensus; miners take turns "
        "group by group, at most max_per_miner traces each per environment; max_traces "
        "shared evenly across environments"
    ),
}


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


def group_rows(selection: GroupSelection) -> list[dict[str, Any]]:
    """One GRPO row per trace of every selected group: :func:`dataset_rows`'s fields plus
    ``group`` (``epoch:index:task``), ``tokens``, ``logprobs`` (the batch's, raw at T = 1),
    ``sampling`` (temperature, top_p) and the behaviour ``model`` (id, checkpoint CID)."""
    rows = dataset_rows(Selection(selection.traces, (), {}))
    traces = [(g, t) for g in selection.groups for t in g.traces]
    for row, (group, trace) in zip(rows, traces, strict=True):
        behaviour = group.batch.behaviour
        if behaviour is None:
            raise RefineryError(f"batch {group.batch.cid} has no header: cannot train GRPO on it")
        row.update(
            group=group.name,
            tokens=list(trace.tokens),
            logprobs=list(trace.logprobs),
            **behaviour.to_json(),
        )
    return rows


@dataclass(frozen=True)
class PinnedDataset:
    """A pinned selection: the manifest (and its CID) and the data's CID."""

    manifest_cid: str
    data_cid: str
    manifest: dict[str, Any]
    rows: list[dict[str, Any]]


def _manifest(
    selection: Selection | GroupSelection,
    config: SelectionConfig,
    *,
    epochs: Sequence[int],
    deployment: dict[str, Any],
    parent: dict[str, Any],
    data_cid: str,
) -> dict[str, Any]:
    algorithm: Algorithm = "grpo" if isinstance(selection, GroupSelection) else "sft"
    manifest: dict[str, Any] = {
        "schema": DATASET_SCHEMA,
        "algorithm": algorithm,
        "deployment": deployment,
        "parent_model": parent,
        "epochs": sorted(epochs),
        "selection": config.model_dump(mode="json"),
        "rules": _RULES[algorithm],
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
        "data": {"cid": data_cid, "format": "jsonl", "rows": len(selection.traces)},
    }
    if isinstance(selection, GroupSelection):
        manifest["counts"]["groups"] = len(selection.groups)
        manifest["groups"] = [
            {
                "batch_cid": g.batch.cid,
                "epoch": g.batch.epoch,
                "batch_index": g.batch.index,
                "task": g.task,
                "samples": len(g.traces),
                "scores": list(g.scores),
                "weight": g.weight,
                "why": g.why(),
            }
            for g in selection.groups
        ]
    else:
        manifest["traces"] = [
            {
                "batch_cid": s.batch.cid,
                "epoch": s.batch.epoch,
                "batch_index": s.batch.index,
                "task": s.trace.task,
                "sample": s.trace.sample,
                "why": s.why(),
            }
            for s in selection.traces
        ]
    return manifest


def pin_dataset(
    store: ContentStore,
    selection: Selection | GroupSelection,
    config: SelectionConfig,
    *,
    epochs: Sequence[int],
    deployment: dict[str, Any],
    parent: dict[str, Any],
) -> PinnedDataset:
    """Pin the selection's data and its manifest; return both CIDs.

    A :class:`~worldgym.refinery.groups.GroupSelection` becomes a GRPO dataset
    (:func:`group_rows`), a :class:`~worldgym.refinery.selection.Selection` a
    fine-tuning one. ``deployment`` names the chain and contract, ``parent``
    the model (``{"id", "cid"}``) the dataset is meant to train.
    """
    if isinstance(selection, GroupSelection):
        rows = group_rows(selection)
    else:
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
        write_durably(path, b"".join(canonical_json(r) + b"\n" for r in rows))
        return Path(path)
    if fmt != "parquet":
        raise RefineryError(f"unknown export format {fmt!r}: use jsonl or parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    with durable_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(list(rows)), tmp)
    return Path(path)
