"""compute_cid gives Kubo's CID: published and recorded vectors, and Kubo's layout rules.

The vectors (fixtures/cid_vectors.json, sources in fixtures/README.md) cover
the empty file, 1 byte, 256 KiB - 1, 256 KiB, 256 KiB + 1, 174 chunks (one
full level), 175 chunks and 300 chunks (two levels), CIDv0, CIDv1 with raw
leaves and CIDv1 with wrapped leaves. A reference port of boxo's recursive
balanced layout checks the streaming builder's DAG shape for many more sizes
and depths than any file could.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass

import pytest
from storage_vectors import FIXTURES, Vector, go_rng_source, load_vectors, pattern

from worldgym.storage import Cid, compute_cid
from worldgym.storage.cid import CODEC_DAG_PB
from worldgym.storage.dagpb import (
    UNIXFS_FILE,
    decode_pbnode,
    decode_unixfs,
    encode_pbnode,
    encode_unixfs,
)
from worldgym.storage.unixfs import DagBuilder, ImportOptions, import_content

VECTORS = load_vectors()


def _param(vector: Vector) -> object:
    marks = [pytest.mark.slow] if vector.slow else []
    if vector.recipe["kind"] == "go_random" and go_rng_source() is None:
        reason = "needs Go's math/rand source (golang-1.19-src: `make sysdeps` as root)"
        marks.append(pytest.mark.skip(reason=reason))
    return pytest.param(vector, id=vector.name, marks=marks)


@pytest.mark.parametrize("vector", [_param(v) for v in VECTORS])
def test_compute_cid_matches_kubo(vector: Vector) -> None:
    assert compute_cid(vector.chunks(), **vector.options) == vector.cid


def test_the_vectors_cover_the_issue_s_sizes_and_options() -> None:
    sizes = {v.size for v in VECTORS if v.options.get("chunk_size") is None}
    chunk = 256 * 1024
    assert {0, 1, chunk - 1, chunk, chunk + 1, 174 * chunk + 1} <= sizes
    deep = [v for v in VECTORS if v.size > 174 * v.options.get("chunk_size", chunk)]
    assert {v.options.get("cid_version") for v in deep} == {0, 1}
    combos = {(v.options.get("cid_version"), v.options.get("raw_leaves")) for v in VECTORS}
    assert {(0, None), (1, None), (1, False), (0, True)} <= combos
    assert all(v.source for v in VECTORS)


@pytest.mark.parametrize("size", [0, 1, 1000, 256 * 1024])
def test_a_single_chunk_file_is_one_block_in_every_cid_form(size: int) -> None:
    data = pattern(size)
    v0 = Cid.parse(compute_cid(data, cid_version=0))
    assert compute_cid(data, cid_version=1, raw_leaves=False) == str(v0.to_v1())
    raw = compute_cid(data, cid_version=1)
    assert Cid.parse(raw) == Cid(1, 0x55, 0x12, hashlib.sha256(data).digest())


def test_every_input_kind_gives_the_same_cid(tmp_path: pytest.TempPathFactory) -> None:
    data = pattern(3 * 256 * 1024 + 5)
    path = tmp_path / "f.bin"  # type: ignore[operator]
    path.write_bytes(data)
    expected = compute_cid(data)
    assert compute_cid(path) == expected
    assert compute_cid(io.BytesIO(data)) == expected
    assert compute_cid(bytearray(data)) == expected
    assert compute_cid(memoryview(data)) == expected
    odd_pieces = (data[i : i + 7919] for i in range(0, len(data), 7919))
    assert compute_cid(odd_pieces) == expected
    with pytest.raises(ValueError, match="ambiguous"):
        compute_cid(str(path))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "kubo_blocks").iterdir()))
def test_real_kubo_blocks_decode_and_re_encode_byte_for_byte(name: str) -> None:
    block = gzip.decompress((FIXTURES / "kubo_blocks" / name).read_bytes())
    cid = Cid.parse(name.removesuffix(".bin.gz"))
    assert hashlib.sha256(block).digest() == cid.digest
    node = decode_pbnode(block)
    fs = decode_unixfs(node.data or b"")
    assert fs.type == UNIXFS_FILE
    data = fs.data if fs.data else None
    again = encode_pbnode(
        [(link.cid, link.tsize or 0) for link in node.links],
        encode_unixfs(fs.type, data=data, filesize=fs.filesize or 0, blocksizes=fs.blocksizes),
    )
    assert again == block
    assert all(link.name == "" for link in node.links)


# -- the layout, against a port of boxo's recursive balanced builder ----------------------


@dataclass
class _Node:
    leaf: bool
    children: list[_Node]
    size: int


def _kubo_balanced(chunks: list[int], max_links: int) -> _Node:
    """boxo ipld/unixfs/importer/balanced.Layout, recursion and all (shape only)."""
    queue = list(chunks)

    def leaf() -> _Node:
        return _Node(True, [], queue.pop(0))

    def fill(node: _Node | None, depth: int) -> _Node:
        node = node or _Node(False, [], 0)
        while len(node.children) < max_links and queue:
            child = leaf() if depth == 1 else fill(None, depth - 1)
            node.children.append(child)
            node.size += child.size
        return node

    if not queue:
        return _Node(True, [], 0)
    root = leaf()
    depth = 1
    while queue:
        root = fill(_Node(False, [root], root.size), depth)
        depth += 1
    return root


def _shape(node: _Node) -> object:
    return ("leaf", node.size) if node.leaf else tuple(_shape(c) for c in node.children)


def _built_shape(chunks: list[int], max_links: int) -> object:
    """The DAG shape DagBuilder emits, rebuilt from its blocks."""
    blocks: dict[Cid, bytes] = {}
    options = ImportOptions(cid_version=1, raw_leaves=False, chunk_size=8, max_links=max_links)
    builder = DagBuilder(options, lambda cid, pieces: blocks.update({cid: b"".join(pieces)}))
    for size in chunks:
        builder.add_chunk(bytes(size))
    root = builder.finish().cid

    def shape(cid: Cid) -> object:
        node = decode_pbnode(blocks[cid])
        fs = decode_unixfs(node.data or b"")
        if not node.links:
            return ("leaf", len(fs.data))
        assert cid.codec == CODEC_DAG_PB
        return tuple(shape(Cid.from_bytes(link.cid)) for link in node.links)

    return shape(root)


@pytest.mark.parametrize("max_links", [2, 3, 5])
def test_streaming_builder_has_kubo_s_balanced_shape(max_links: int) -> None:
    for count in range(0, max_links**3 + 3):
        chunks = [8] * count
        if count:
            chunks[-1] = 3  # a short last chunk, as files have
        assert _built_shape(chunks, max_links) == _shape(_kubo_balanced(chunks, max_links)), count


def test_block_count_and_order_of_a_two_level_dag() -> None:
    data = pattern(175 * 256 * 1024)
    blocks: dict[Cid, bytes] = {}
    result = import_content(
        data, ImportOptions(cid_version=1), lambda c, p: blocks.update({c: b"".join(p)})
    )
    assert result.size == len(data)
    assert result.blocks == len(blocks) == 175 + 2 + 1  # leaves, two level-1 nodes, root
    assert list(blocks)[-1] == result.cid  # the root is written last
    root = decode_pbnode(blocks[result.cid])
    assert len(root.links) == 2
    assert decode_unixfs(root.data or b"").blocksizes == (174 * 256 * 1024, 256 * 1024)
