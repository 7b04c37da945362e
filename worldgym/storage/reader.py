"""Read a UnixFS file out of any block source, verifying every block and every link.

Both backends hand raw, *untrusted* block bytes to this module (the local
disk can rot, a Kubo daemon can lie). Each block is hashed and compared with
the CID that named it before anything in it is used; links are followed only
out of verified blocks, and every child's size must equal what its parent
declared, so a substituted, truncated or padded block is an
:class:`~worldgym.storage.errors.IntegrityError` naming the block's CID.

The walk is depth-first with an explicit stack (no recursion), yields the
file's bytes one block at a time, and refuses (:class:`ReadLimitError`) before
reading further when the root declares more bytes than the caller allows.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from worldgym.storage.cid import CODEC_DAG_PB, CODEC_RAW, SHA2_256, Cid
from worldgym.storage.dagpb import (
    UNIXFS_DIRECTORY,
    UNIXFS_FILE,
    UNIXFS_HAMT_SHARD,
    UNIXFS_RAW,
    UNIXFS_SYMLINK,
    UnixFSData,
    decode_pbnode,
    decode_unixfs,
)
from worldgym.storage.errors import (
    CidError,
    IntegrityError,
    ReadLimitError,
    UnsupportedContentError,
)

__all__ = [
    "MAX_BLOCK_SIZE",
    "MAX_DEPTH",
    "BlockGetter",
    "FileNode",
    "RawReader",
    "decode_file_node",
    "iter_file",
    "read_file",
    "verify_block",
    "walk_dag",
]

MAX_BLOCK_SIZE = 2 * 1024 * 1024  # Kubo refuses blocks over 1 MiB + framing; 2 MiB is generous
MAX_DEPTH = 32  # 174**32 chunks is far beyond any file; deeper means a hostile DAG

BlockGetter = Callable[[Cid], bytes]
"""Returns the raw bytes stored under a CID (unverified); raises ContentNotFoundError."""

RawReader = Callable[[Cid, memoryview], int]
"""Reads the raw block ``cid`` into the view when it is exactly that long (unverified);
returns the block's size either way; raises ContentNotFoundError."""

_NON_FILE_TYPES = {
    UNIXFS_DIRECTORY: "a UnixFS directory",
    UNIXFS_HAMT_SHARD: "a sharded UnixFS directory",
    UNIXFS_SYMLINK: "a UnixFS symlink",
}


@dataclass(frozen=True, slots=True)
class FileNode:
    """One verified node of a file DAG: its inline bytes and its children with their sizes."""

    cid: Cid
    block_size: int
    data: bytes
    children: tuple[tuple[Cid, int], ...]
    tsizes: tuple[int, ...]

    @property
    def filesize(self) -> int:
        """File bytes under this node (its own data plus its children's)."""
        return len(self.data) + sum(size for _, size in self.children)


def verify_block(cid: Cid, block: bytes | memoryview) -> None:
    """Raise IntegrityError unless ``block`` hashes to ``cid``."""
    if cid.hash_code != SHA2_256:
        raise CidError(f"{cid}: only sha2-256 CIDs can be verified (hash 0x{cid.hash_code:x})")
    if len(block) > MAX_BLOCK_SIZE:
        raise IntegrityError(
            f"block {cid} is {len(block)} bytes, over the {MAX_BLOCK_SIZE}-byte block limit",
            cid=str(cid),
        )
    if hashlib.sha256(block).digest() != cid.digest:
        raise IntegrityError(
            f"block {cid} is corrupted or substituted: its bytes do not hash to its CID "
            "(the data was not returned)",
            cid=str(cid),
        )


def _unixfs_of(
    cid: Cid, block: bytes
) -> tuple[UnixFSData, tuple[tuple[Cid, int], ...], tuple[int, ...]]:
    try:
        node = decode_pbnode(block)
        if node.data is None:
            raise ValueError("dag-pb node without a UnixFS Data field")
        fs = decode_unixfs(node.data)
    except ValueError as exc:
        raise IntegrityError(
            f"block {cid} is not a valid UnixFS node: {exc}", cid=str(cid)
        ) from None
    if fs.type in _NON_FILE_TYPES:
        raise UnsupportedContentError(
            f"{cid} is {_NON_FILE_TYPES[fs.type]}, not a file: this store reads files only"
        )
    if fs.type not in (UNIXFS_FILE, UNIXFS_RAW):
        raise IntegrityError(f"block {cid} has UnixFS type {fs.type}, not a file", cid=str(cid))
    if len(node.links) != len(fs.blocksizes):
        raise IntegrityError(
            f"block {cid} has {len(node.links)} links but {len(fs.blocksizes)} block sizes",
            cid=str(cid),
        )
    children = []
    for link, size in zip(node.links, fs.blocksizes, strict=True):
        try:
            child = Cid.from_bytes(link.cid)
        except CidError as exc:
            raise IntegrityError(
                f"block {cid} links to a malformed CID: {exc}", cid=str(cid)
            ) from None
        if child.codec not in (CODEC_RAW, CODEC_DAG_PB):
            raise IntegrityError(
                f"block {cid} links to {child}, a {child.codec_name} block (not part of a file)",
                cid=str(cid),
            )
        children.append((child, size))
    tsizes = tuple(link.tsize or 0 for link in node.links)
    return fs, tuple(children), tsizes


def decode_file_node(cid: Cid, block: bytes) -> FileNode:
    """Verify ``block`` against ``cid`` and decode it as a node of a UnixFS file."""
    verify_block(cid, block)
    if cid.codec == CODEC_RAW:
        return FileNode(cid, len(block), block, (), ())
    if cid.codec != CODEC_DAG_PB:
        raise UnsupportedContentError(f"{cid} is a {cid.codec_name} block, not a UnixFS file")
    fs, children, tsizes = _unixfs_of(cid, block)
    node = FileNode(cid, len(block), fs.data, children, tsizes)
    if fs.filesize is not None and fs.filesize != node.filesize:
        raise IntegrityError(
            f"block {cid} declares filesize {fs.filesize} but holds {node.filesize} bytes",
            cid=str(cid),
        )
    return node


def _check(
    node: FileNode, expected: int | None, depth: int, root: Cid, max_bytes: int | None
) -> None:
    """The checks every node passes before its bytes are used."""
    if expected is not None and node.filesize != expected:
        raise IntegrityError(
            f"block {node.cid} holds {node.filesize} file bytes but its parent declared {expected}",
            cid=str(node.cid),
        )
    if depth == 0 and max_bytes is not None and node.filesize > max_bytes:
        raise ReadLimitError(
            f"{root} is {node.filesize} bytes, over the {max_bytes}-byte limit of this read; "
            "raise max_bytes (or max_read_bytes in the storage settings) if that is intended",
            cid=str(root),
            limit=max_bytes,
        )


def _children(node: FileNode, depth: int, root: Cid) -> list[tuple[Cid, int, int]]:
    """``node``'s children as stack entries, last child first (so the first pops first)."""
    if node.children and depth + 1 > MAX_DEPTH:
        raise IntegrityError(
            f"the DAG under {root} is deeper than {MAX_DEPTH} levels", cid=str(node.cid)
        )
    return [(child, size, depth + 1) for child, size in reversed(node.children)]


def walk_dag(root: Cid, get_block: BlockGetter, *, max_bytes: int | None) -> Iterator[FileNode]:
    """Every node of the file DAG under ``root`` in file order, each verified.

    Raises ReadLimitError when the file is over ``max_bytes`` (None: no limit),
    before any block past the root is fetched.
    """
    stack: list[tuple[Cid, int | None, int]] = [(root, None, 0)]
    while stack:
        cid, expected, depth = stack.pop()
        node = decode_file_node(cid, get_block(cid))
        _check(node, expected, depth, root, max_bytes)
        yield node
        stack.extend(_children(node, depth, root))


def iter_file(root: Cid, get_block: BlockGetter, *, max_bytes: int | None) -> Iterator[bytes]:
    """The bytes of the file ``root`` names, one block's worth at a time, all verified."""
    for node in walk_dag(root, get_block, max_bytes=max_bytes):
        if node.data:
            yield node.data


def read_file(
    root: Cid,
    get_block: BlockGetter,
    *,
    max_bytes: int | None,
    read_raw_into: RawReader | None = None,
) -> bytes:
    """The whole file ``root`` names, verified, assembled in one buffer.

    The buffer is sized from the verified root; with ``read_raw_into``, raw
    leaves are read straight into their place in it and hashed there, so a
    large file is neither copied block by block nor joined at the end.
    """
    top = decode_file_node(root, get_block(root))
    _check(top, None, 0, root, max_bytes)
    if not top.children:
        return top.data
    out = io.BytesIO()
    if top.filesize:
        out.seek(top.filesize - 1)
        out.write(b"\0")
    with out.getbuffer() as view:
        pos = _place(view, 0, top.data, top.cid)
        stack = _children(top, 0, root)
        while stack:
            cid, expected, depth = stack.pop()
            if cid.codec == CODEC_RAW and read_raw_into is not None:
                pos = _read_raw_leaf(view, pos, cid, expected, read_raw_into)
                continue
            node = decode_file_node(cid, get_block(cid))
            _check(node, expected, depth, root, max_bytes)
            pos = _place(view, pos, node.data, cid)
            stack.extend(_children(node, depth, root))
    return out.getvalue()


def _place(view: memoryview, pos: int, data: bytes, cid: Cid) -> int:
    end = pos + len(data)
    if end > len(view):
        raise IntegrityError(f"block {cid} runs past the size its root declared", cid=str(cid))
    view[pos:end] = data
    return end


def _read_raw_leaf(
    view: memoryview, pos: int, cid: Cid, expected: int, read_raw_into: RawReader
) -> int:
    end = pos + expected
    if end > len(view):
        raise IntegrityError(f"block {cid} runs past the size its root declared", cid=str(cid))
    with view[pos:end] as target:
        size = read_raw_into(cid, target)
        if size != expected:
            raise IntegrityError(
                f"block {cid} holds {size} file bytes but its parent declared {expected}",
                cid=str(cid),
            )
        verify_block(cid, target)
    return end
