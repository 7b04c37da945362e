"""Checkpoints in the store: byte-exact round trips, verified fetches, on-chain resolution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worldgym.deploy.devchain import DevChain
from worldgym.policy.checkpoint import (
    fetch_checkpoint,
    pin_checkpoint,
    read_manifest,
    register_checkpoint,
    resolve_model,
)
from worldgym.policy.errors import CheckpointError
from worldgym.storage import LocalStore, StoreSettings, open_store

pytestmark = pytest.mark.ml


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    opened = open_store(StoreSettings(path=tmp_path / "store"))
    assert isinstance(opened, LocalStore)
    return opened


def test_round_trip_is_byte_exact_and_cached(
    store: LocalStore, tiny_dir: Path, tmp_path: Path
) -> None:
    cid = pin_checkpoint(store, tiny_dir)
    assert pin_checkpoint(store, tiny_dir) == cid  # content addressed: same files, same CID
    local = fetch_checkpoint(store, cid, tmp_path / "cache")
    for original in tiny_dir.iterdir():
        assert (local / original.name).read_bytes() == original.read_bytes()
    assert {e["path"] for e in read_manifest(store, cid)} == {p.name for p in tiny_dir.iterdir()}
    assert fetch_checkpoint(store, cid, tmp_path / "cache") == local


def test_a_corrupt_block_is_refused_and_leaves_no_model(
    store: LocalStore, tiny_dir: Path, tmp_path: Path
) -> None:
    cid = pin_checkpoint(store, tiny_dir)
    weights = next(e for e in read_manifest(store, cid) if e["path"].endswith(".safetensors"))
    block = store.block_path(weights["cid"])  # the root block of the weights file
    data = bytearray(block.read_bytes())
    data[len(data) // 2] ^= 0xFF
    block.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=weights["cid"][:20]):
        fetch_checkpoint(store, cid, tmp_path / "cache")
    assert not (tmp_path / "cache" / cid).exists()


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        ({"schema": "other", "files": []}, "not a worldgym.checkpoint/1"),
        ({"schema": "worldgym.checkpoint/1", "files": []}, "1 to 256 files"),
        (
            {"schema": "worldgym.checkpoint/1", "files": [{"path": "../x", "size": 1, "cid": "b"}]},
            "unsafe",
        ),
        (
            {
                "schema": "worldgym.checkpoint/1",
                "files": [
                    {"path": "a", "size": 1, "cid": "b"},
                    {"path": "a", "size": 1, "cid": "b"},
                ],
            },
            "twice",
        ),
    ],
)
def test_bad_manifests_are_refused(store: LocalStore, manifest: object, reason: str) -> None:
    cid = store.put_bytes(json.dumps(manifest).encode())
    with pytest.raises(CheckpointError, match=reason):
        read_manifest(store, cid)


def test_resolve_follows_the_registry(
    chain: DevChain, store: LocalStore, tiny_dir: Path, other_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(CheckpointError, match="no model is registered"):
        resolve_model(chain, store, tmp_path / "cache")
    first = register_checkpoint(chain.as_account(chain.deployer), store, tiny_dir)
    second = register_checkpoint(
        chain.as_account(chain.deployer),
        store,
        other_dir,
        parent_id=first.id,
        dataset_cid=first.cid,
    )
    latest = resolve_model(chain, store, tmp_path / "cache")
    assert (latest.id, latest.cid) == (second.id, second.cid)
    assert (latest.path / "model.safetensors").read_bytes() == (
        other_dir / "model.safetensors"
    ).read_bytes()
    assert resolve_model(chain, store, tmp_path / "cache", first.id).cid == first.cid
    assert chain.model(second.id).parent_id == first.id
