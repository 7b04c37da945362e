"""The embedded store: round trips, verification of every block, limits, pins, layout."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from storage_vectors import pattern

from worldgym.storage import (
    Cid,
    ContentNotFoundError,
    IntegrityError,
    LocalStore,
    ReadLimitError,
    UnsupportedContentError,
    compute_cid,
)
from worldgym.storage.cid import CODEC_DAG_PB
from worldgym.storage.dagpb import UNIXFS_DIRECTORY, encode_pbnode, encode_unixfs
from worldgym.storage.unixfs import ImportOptions, import_content

CHUNK = 256 * 1024
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7]
OPTIONS = [(0, None), (1, None), (1, False), (0, True)]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def _block_files(store: LocalStore) -> list[Path]:
    return [p for p in store.iter_blocks() if not p.name.startswith(".tmp-")]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("cid_version", "raw_leaves"), OPTIONS)
def test_put_get_round_trip_with_kubo_s_cid(
    store: LocalStore, size: int, cid_version: int, raw_leaves: bool | None
) -> None:
    data = pattern(size)
    cid = store.put_bytes(data, cid_version=cid_version, raw_leaves=raw_leaves)
    assert cid == compute_cid(data, cid_version=cid_version, raw_leaves=raw_leaves)
    assert store.get_bytes(cid) == data
    assert b"".join(store.stream(cid)) == data
    assert store.has(cid)
    assert store.stat(cid).size == size


def test_a_batch_is_a_single_raw_block_by_default(store: LocalStore) -> None:
    batch = b'{"schema":"worldgym.batch/1"}'
    cid = store.put_bytes(batch)
    assert cid.startswith("bafkrei")
    info = store.stat(cid)
    assert (info.codec, info.size, info.block_size, info.links) == (
        "raw",
        len(batch),
        len(batch),
        0,
    )
    assert len(_block_files(store)) == 1


def test_put_file_and_streams(store: LocalStore, tmp_path: Path) -> None:
    data = pattern(2 * CHUNK + 99)
    path = tmp_path / "trace.bin"
    path.write_bytes(data)
    expected = compute_cid(data)
    assert store.put_file(path) == expected
    assert store.put_stream(io.BytesIO(data)) == expected
    assert store.put_stream(iter([data[:10], data[10:]])) == expected
    with store.open(expected) as reader:
        assert reader.read(5) == data[:5]
        assert reader.read() == data[5:]
    with pytest.raises(ValueError, match="readable file"):
        store.put_file(tmp_path / "missing")
    with pytest.raises(ValueError, match="file object"):
        store.put_stream(b"bytes")  # type: ignore[arg-type]


def test_reads_are_bounded(store: LocalStore) -> None:
    big = store.put_bytes(pattern(3 * CHUNK))
    with pytest.raises(ReadLimitError) as caught:
        store.get_bytes(big, max_bytes=CHUNK)
    assert caught.value.cid == big
    assert caught.value.limit == CHUNK
    assert len(store.get_bytes(big, max_bytes=3 * CHUNK)) == 3 * CHUNK
    small_limit = LocalStore(store.root, max_read_bytes=100)
    with pytest.raises(ReadLimitError, match="max_read_bytes"):
        small_limit.get_bytes(big)
    raw = small_limit.put_bytes(b"x" * 101)
    with pytest.raises(ReadLimitError):
        small_limit.get_bytes(raw)


def test_the_root_s_size_is_checked_before_other_blocks_are_read(store: LocalStore) -> None:
    cid = store.put_bytes(pattern(3 * CHUNK), cid_version=1)
    read: list[Cid] = []
    real_get_block = store.get_block

    def spy(block_cid: Cid) -> bytes:
        read.append(block_cid)
        return real_get_block(block_cid)

    store.get_block = spy  # type: ignore[method-assign,assignment]
    with pytest.raises(ReadLimitError):
        store.get_bytes(cid, max_bytes=10)
    assert read == [Cid.parse(cid)]


def _dag(data: bytes, options: ImportOptions) -> tuple[Cid, dict[Cid, bytes]]:
    blocks: dict[Cid, bytes] = {}
    result = import_content(data, options, lambda c, p: blocks.update({c: b"".join(p)}))
    return result.cid, blocks


@pytest.mark.parametrize("raw_leaves", [True, False])
def test_corruption_of_any_block_is_detected_and_named(store: LocalStore, raw_leaves: bool) -> None:
    # Two levels: small chunks and fan-out make a deep DAG from little data.
    options = ImportOptions(cid_version=1, raw_leaves=raw_leaves, chunk_size=64, max_links=3)
    data = pattern(64 * 10 + 5)
    root, blocks = _dag(data, options)
    for cid, block in blocks.items():
        _write_block(store, cid, block)
    assert store.get_bytes(str(root)) == data
    for cid in blocks:
        path = store.block_path(cid)
        good = path.read_bytes()
        path.write_bytes(bytes([good[0] ^ 1]) + good[1:] if good else b"x")
        with pytest.raises(IntegrityError) as caught:
            store.get_bytes(str(root))
        assert caught.value.cid == str(cid)
        assert str(cid) in str(caught.value)
        with pytest.raises(IntegrityError):
            store.pin(str(root))
        path.write_bytes(good)
    assert store.check().valid


def test_a_substituted_block_is_detected(store: LocalStore) -> None:
    cid = store.put_bytes(pattern(2 * CHUNK + 1), cid_version=0)
    other = store.put_bytes(b"another valid block", cid_version=0)
    target = store.block_path(cid)
    target.write_bytes(store.block_path(other).read_bytes())
    with pytest.raises(IntegrityError, match=cid):
        store.get_bytes(cid)
    report = store.check()
    assert report.corrupt == [str(target)]
    assert not report.valid
    repaired = store.check(repair=True)
    assert repaired.removed == [str(target)]
    assert store.put_bytes(pattern(2 * CHUNK + 1), cid_version=0) == cid
    assert store.check().valid


def test_a_lying_parent_is_detected(store: LocalStore) -> None:
    # A well-formed node whose blocksizes disagree with its child: hashes fine, sizes not.
    leaf = store.put_bytes(b"abc", cid_version=1)
    liar = encode_pbnode(
        [(Cid.parse(leaf).to_bytes(), 3)], encode_unixfs(2, filesize=4, blocksizes=[4])
    )
    root = Cid.from_block(liar, codec=CODEC_DAG_PB)
    _write_block(store, root, liar)
    with pytest.raises(IntegrityError, match="declared 4"):
        store.get_bytes(str(root))


def _write_block(store: LocalStore, cid: Cid, block: bytes) -> None:
    path = store.block_path(cid)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(block)


def test_missing_blocks_and_directories(store: LocalStore) -> None:
    absent = compute_cid(b"never stored")
    with pytest.raises(ContentNotFoundError) as caught:
        store.get_bytes(absent)
    assert caught.value.cid == absent
    assert not store.has(absent)
    cid = store.put_bytes(pattern(2 * CHUNK), cid_version=0)
    leaf = next(p for p in _block_files(store) if p.name != str(Cid.parse(cid).to_v1()))
    leaf.unlink()
    with pytest.raises(ContentNotFoundError):
        store.get_bytes(cid)
    with pytest.raises(ContentNotFoundError):
        store.pin(cid)
    directory = encode_pbnode([], encode_unixfs(UNIXFS_DIRECTORY, filesize=0))
    dir_cid = Cid.from_block(directory, codec=CODEC_DAG_PB, version=0)
    _write_block(store, dir_cid, directory)
    with pytest.raises(UnsupportedContentError, match="directory"):
        store.get_bytes(str(dir_cid))


def test_pins_are_durable_records(store: LocalStore) -> None:
    cid = store.put_bytes(pattern(CHUNK + 1))
    assert not store.stat(cid).pinned
    store.pin(cid)
    assert LocalStore(store.root).stat(cid).pinned
    assert store.pins() == [cid]
    assert store.unpin(cid)
    assert not store.unpin(cid)
    assert store.pins() == []
    pinned_on_put = store.put_bytes(b"pin me", pin=True)
    assert store.pins() == [pinned_on_put]


def test_v0_and_v1_names_of_one_block_are_one_file(store: LocalStore) -> None:
    v0 = store.put_bytes(pattern(100), cid_version=0)
    v1 = str(Cid.parse(v0).to_v1())
    assert store.has(v1)
    assert store.get_bytes(v1) == pattern(100)
    assert len(_block_files(store)) == 1


def test_layout_on_disk(store: LocalStore) -> None:
    assert not store.root.exists()  # nothing happens until the first write
    cid = store.put_bytes(b"layout")
    path = store.root / "blocks" / cid[-3:-1] / cid
    assert path.read_bytes() == b"layout"
    assert store.check().blocks_ok == 1


def test_identical_chunks_are_stored_once(store: LocalStore) -> None:
    cid = store.put_bytes(bytes(5 * CHUNK))
    assert len(_block_files(store)) == 2  # one zero chunk, one root
    assert store.get_bytes(cid) == bytes(5 * CHUNK)


def test_stat_reports_the_dag(store: LocalStore) -> None:
    data = pattern(2 * CHUNK + 1)
    cid = store.put_bytes(data, cid_version=0)
    info = store.stat(cid)
    assert info.cid == cid
    assert info.links == 3
    assert info.size == len(data)
    assert info.dag_size == info.block_size + sum(  # Kubo's CumulativeSize
        len(store.get_block(Cid.parse(c))) for c in _leaf_cids(data)
    )
    assert info.as_dict()["codec"] == "dag-pb"


def _leaf_cids(data: bytes) -> list[str]:
    cids: list[str] = []
    import_content(data, ImportOptions(cid_version=0), lambda c, p: cids.append(str(c)))
    return cids[:-1]
