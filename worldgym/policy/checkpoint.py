"""Model checkpoints in content-addressed storage, and which model a miner should use.

A checkpoint is a directory (``config.json``, ``*.safetensors``, tokenizer
files). It is stored as one ``worldgym.checkpoint/1`` manifest, a small JSON
document listing each file's name, size and CID; the manifest's CID is the
model's digest, the ``checkpointCid`` registered on chain and the
``model.digest`` of every batch made with it. Fetching checks every file
against its CID (the store verifies each block), refuses unsafe names and
oversized manifests, and writes the directory atomically into a cache keyed by
CID, so a crash never leaves a half model that looks complete.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worldgym.chain.contracts import Protocol
from worldgym.core.canonical import canonical_json
from worldgym.policy.errors import CheckpointError
from worldgym.storage import ContentStore, cid_from_bytes, cid_to_bytes
from worldgym.storage.documents import DocumentError, read_document
from worldgym.storage.errors import StorageError

__all__ = [
    "CHECKPOINT_SCHEMA",
    "ModelHandle",
    "fetch_checkpoint",
    "find_registered",
    "local_model",
    "pin_checkpoint",
    "read_manifest",
    "register_checkpoint",
    "resolve_model",
]

CHECKPOINT_SCHEMA = "worldgym.checkpoint/1"
MAX_MANIFEST_BYTES = 1 << 20
MAX_FILES = 256
MAX_CHECKPOINT_BYTES = 200 * 1024**3
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_COMPLETE = ".worldgym-complete"


@dataclass(frozen=True)
class ModelHandle:
    """A model resolved to a local directory: its registry id (0 if unregistered) and CID."""

    id: int
    cid: str
    path: Path


def pin_checkpoint(store: ContentStore, model_dir: Path) -> str:
    """Pin every file of ``model_dir`` and a manifest listing them; return the manifest's CID."""
    files = sorted(p for p in Path(model_dir).iterdir() if p.is_file())
    if not files:
        raise CheckpointError(f"{model_dir} has no files to pin")
    entries = []
    for path in files:
        if not _SAFE_NAME.match(path.name):
            raise CheckpointError(f"cannot pin {path.name!r}: checkpoint file names must be plain")
        cid = store.put_file(path, pin=True)
        entries.append({"path": path.name, "size": path.stat().st_size, "cid": cid})
    manifest = {"schema": CHECKPOINT_SCHEMA, "files": entries}
    return store.put_bytes(canonical_json(manifest), pin=True)


def read_manifest(store: ContentStore, cid: str) -> list[dict[str, Any]]:
    """The verified, validated file list of the checkpoint manifest at ``cid``."""
    try:
        raw, _ = read_document(
            store, cid, CHECKPOINT_SCHEMA, max_bytes=MAX_MANIFEST_BYTES,
            what="checkpoint manifest", noun="manifest",
        )  # fmt: skip
    except DocumentError as exc:
        raise CheckpointError(str(exc)) from None
    files = raw.get("files")
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_FILES:
        raise CheckpointError(f"manifest {cid} must list 1 to {MAX_FILES} files")
    names: set[str] = set()
    total = 0
    for entry in files:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and _SAFE_NAME.match(entry["path"])
            and isinstance(entry.get("size"), int)
            and entry["size"] >= 0
            and isinstance(entry.get("cid"), str)
        ):
            raise CheckpointError(f"manifest {cid} has a malformed or unsafe entry: {entry!r:.200}")
        if entry["path"] in names:
            raise CheckpointError(f"manifest {cid} lists {entry['path']} twice")
        names.add(entry["path"])
        total += entry["size"]
    if total > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"checkpoint {cid} is {total:,} bytes, over {MAX_CHECKPOINT_BYTES:,}")
    return files


def fetch_checkpoint(store: ContentStore, cid: str, cache_dir: Path) -> Path:
    """The checkpoint at ``cid`` as a local directory under ``cache_dir`` (fetched if needed)."""
    target = Path(cache_dir) / cid
    if (target / _COMPLETE).is_file():
        return target
    files = read_manifest(store, cid)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{cid[:16]}-", dir=cache_dir))
    try:
        for entry in files:
            with open(staging / entry["path"], "wb") as out:
                written = 0
                for chunk in store.stream(entry["cid"], max_bytes=entry["size"]):
                    out.write(chunk)
                    written += len(chunk)
                if written != entry["size"]:
                    raise CheckpointError(
                        f"{entry['path']} of checkpoint {cid} is {written} bytes, "
                        f"the manifest says {entry['size']}"
                    )
                out.flush()
                os.fsync(out.fileno())
        (staging / _COMPLETE).write_text(cid)
        if target.exists():  # an earlier crash left an incomplete copy
            shutil.rmtree(target)
        os.replace(staging, target)
    except StorageError as exc:
        raise CheckpointError(f"cannot fetch checkpoint {cid}: {exc}") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_model(
    protocol: Protocol, store: ContentStore, cache_dir: Path, model_id: int | None = None
) -> ModelHandle:
    """The registered model ``model_id`` (the latest when None), fetched and verified."""
    chosen = protocol.latest_model_id() if model_id is None else model_id
    if chosen == 0:
        raise CheckpointError(
            "no model is registered yet: the refinery (or the deployer) must register a base "
            "model first (worldgym model register DIR)"
        )
    record = protocol.model(chosen)
    cid = cid_from_bytes(record.checkpoint_cid)
    return ModelHandle(chosen, cid, fetch_checkpoint(store, cid, cache_dir))


def register_checkpoint(
    protocol: Protocol,
    store: ContentStore,
    model_dir: Path,
    *,
    parent_id: int = 0,
    dataset_cid: str | None = None,
    metrics_digest: bytes = b"\0" * 32,
) -> ModelHandle:
    """Pin ``model_dir`` and register it on chain (REFINERY_ROLE); return its handle."""
    cid = pin_checkpoint(store, model_dir)
    dataset = cid_to_bytes(dataset_cid) if dataset_cid else b""
    model_id = protocol.register_model(cid_to_bytes(cid), parent_id, dataset, metrics_digest)
    return ModelHandle(model_id, cid, Path(model_dir))


def find_registered(protocol: Protocol, cid: str, *, newest_first: int = 1024) -> int | None:
    """The id of the newest registered model whose checkpoint is ``cid`` (None if none)."""
    binary = cid_to_bytes(cid)
    latest = protocol.latest_model_id()
    for model_id in range(latest, max(0, latest - newest_first), -1):
        if protocol.model(model_id).checkpoint_cid == binary:
            return model_id
    return None


def local_model(protocol: Protocol, store: ContentStore, model_dir: Path) -> ModelHandle:
    """A local checkpoint directory, pinned, and the registered model it is (an error if none)."""
    cid = pin_checkpoint(store, model_dir)
    model_id = find_registered(protocol, cid)
    if model_id is None:
        raise CheckpointError(
            f"the checkpoint in {model_dir} ({cid}) is not a registered model: batches must "
            "name a registered model, so use a model id (worldgym model list) or register it"
        )
    return ModelHandle(model_id, cid, Path(model_dir))
