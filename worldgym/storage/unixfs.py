"""Build the UnixFS file DAG exactly as Kubo's ``ipfs add`` does, streaming.

Kubo (boxo's importer) splits a file into fixed-size chunks (256 KiB) and
arranges them in a *balanced* DAG: chunks are the leaves, every internal node
links to at most 174 children, all leaves are at the same depth, and the tree
is filled left to right. A file of one chunk is just that leaf; the empty file
is a single node. Leaves are UnixFS ``File`` nodes wrapped in dag-pb, or, with
raw leaves, the chunk bytes themselves as a ``raw`` block (always a CIDv1).

:class:`DagBuilder` builds that DAG bottom-up with one pending row of at most
``max_links`` entries per level, so memory stays small whatever the size:
a full row is turned into its parent node only when one more entry arrives
(that is exactly when Kubo's layout grows a level). Each finished block goes
to a *sink* as a list of byte pieces (a wrapped leaf is ``prefix, chunk,
suffix``), so chunks are hashed and written without being copied.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from worldgym.core.errors import UsageError
from worldgym.storage.cid import CODEC_DAG_PB, CODEC_RAW, SHA2_256, Cid
from worldgym.storage.dagpb import UNIXFS_FILE, encode_pbnode, encode_unixfs, leaf_envelope

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_LINKS",
    "MAX_CHUNK_SIZE",
    "BlockSink",
    "DagBuilder",
    "ImportOptions",
    "ImportResult",
    "Source",
    "compute_cid",
    "import_content",
    "iter_chunks",
]

DEFAULT_CHUNK_SIZE = 256 * 1024
DEFAULT_MAX_LINKS = 174
MAX_CHUNK_SIZE = 1024 * 1024  # Kubo's limit for size-N chunkers (and its block limit)

BlockSink = Callable[[Cid, Sequence[bytes | memoryview]], None]
"""Receives each finished block as ``(cid, pieces)``, children before parents. The pieces
are not reused by the builder (a sink may keep them), but they may be views of the
caller's buffer, which must not change until the put returns."""

Source = bytes | bytearray | memoryview | os.PathLike[str] | BinaryIO | Iterable[bytes]
"""What can be imported: bytes, a file path (a ``Path``), a binary file object, or an
iterable of byte strings. A ``str`` is refused (is it text or a path?)."""


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How content becomes a DAG; the defaults are ``ipfs add --cid-version=1``.

    ``raw_leaves=None`` follows Kubo: raw leaves for CIDv1, wrapped leaves for CIDv0.
    """

    cid_version: int = 1
    raw_leaves: bool | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    max_links: int = DEFAULT_MAX_LINKS

    def __post_init__(self) -> None:
        if self.cid_version not in (0, 1):
            raise UsageError(f"cid_version must be 0 or 1, not {self.cid_version!r}")
        if not 1 <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise UsageError(f"chunk_size must be 1..{MAX_CHUNK_SIZE} bytes, not {self.chunk_size}")
        if self.max_links < 2:
            raise UsageError(f"max_links must be at least 2, not {self.max_links}")

    @property
    def leaves_raw(self) -> bool:
        """Whether leaves are raw blocks (the explicit choice, else CIDv1's default)."""
        return self.cid_version == 1 if self.raw_leaves is None else self.raw_leaves

    @property
    def is_kubo_default_layout(self) -> bool:
        """Whether chunking and fan-out are Kubo's defaults (256 KiB chunks, 174 links)."""
        return self.chunk_size == DEFAULT_CHUNK_SIZE and self.max_links == DEFAULT_MAX_LINKS


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The root CID, the file's size in bytes and how many blocks the DAG has."""

    cid: Cid
    size: int
    blocks: int


@dataclass(frozen=True, slots=True)
class _Entry:
    cid: Cid
    tsize: int  # the block's size plus the Tsize of everything under it
    filesize: int  # file bytes under it


class DagBuilder:
    """Feed chunks with :meth:`add_chunk` (each ``chunk_size`` long except the last), then
    :meth:`finish` for the root. Blocks go to ``sink`` children first, the root last."""

    def __init__(self, options: ImportOptions, sink: BlockSink | None = None) -> None:
        self._options = options
        self._sink = sink
        self._rows: list[list[_Entry]] = [[]]
        self._size = 0
        self._blocks = 0
        self._finished = False

    def add_chunk(self, chunk: bytes | memoryview) -> None:
        """Add the next chunk of the file (not empty)."""
        if self._finished:
            raise UsageError("add_chunk after finish")
        if not 0 < len(chunk) <= self._options.chunk_size:
            raise UsageError(f"a chunk must be 1..{self._options.chunk_size} bytes")
        self._size += len(chunk)
        self._push(0, self._leaf(chunk))

    def finish(self) -> ImportResult:
        """Close the DAG and return its root."""
        if self._finished:
            raise UsageError("finish called twice")
        self._finished = True
        if not self._rows[0] and len(self._rows) == 1:
            return self._result(self._empty())
        level = 0
        while True:
            row = self._rows[level]
            if level == len(self._rows) - 1 and len(row) == 1:
                return self._result(row[0])
            if row:
                self._rows[level] = []
                self._push(level + 1, self._internal(row))
            level += 1

    def _result(self, root: _Entry) -> ImportResult:
        return ImportResult(root.cid, self._size, self._blocks)

    def _push(self, level: int, entry: _Entry) -> None:
        if level == len(self._rows):
            self._rows.append([])
        row = self._rows[level]
        if len(row) == self._options.max_links:
            self._rows[level] = []
            self._push(level + 1, self._internal(row))
        self._rows[level].append(entry)

    def _emit(self, cid: Cid, pieces: Sequence[bytes | memoryview]) -> None:
        self._blocks += 1
        if self._sink is not None:
            self._sink(cid, pieces)

    def _leaf(self, chunk: bytes | memoryview) -> _Entry:
        size = len(chunk)
        if self._options.leaves_raw:
            cid = Cid(1, CODEC_RAW, SHA2_256, hashlib.sha256(chunk).digest())
            self._emit(cid, (chunk,))
            return _Entry(cid, size, size)
        prefix, suffix = leaf_envelope(size)
        digest = hashlib.sha256(prefix)
        digest.update(chunk)
        digest.update(suffix)
        cid = Cid(self._options.cid_version, CODEC_DAG_PB, SHA2_256, digest.digest())
        self._emit(cid, (prefix, chunk, suffix))
        return _Entry(cid, len(prefix) + size + len(suffix), size)

    def _internal(self, children: list[_Entry]) -> _Entry:
        filesize = sum(child.filesize for child in children)
        data = encode_unixfs(
            UNIXFS_FILE, filesize=filesize, blocksizes=[child.filesize for child in children]
        )
        block = encode_pbnode([(child.cid.to_bytes(), child.tsize) for child in children], data)
        cid = Cid.from_block(block, codec=CODEC_DAG_PB, version=self._options.cid_version)
        self._emit(cid, (block,))
        return _Entry(cid, len(block) + sum(child.tsize for child in children), filesize)

    def _empty(self) -> _Entry:
        if self._options.leaves_raw:
            cid = Cid.from_block(b"", codec=CODEC_RAW)
            self._emit(cid, (b"",))
            return _Entry(cid, 0, 0)
        block = encode_pbnode([], encode_unixfs(UNIXFS_FILE, filesize=0))
        cid = Cid.from_block(block, codec=CODEC_DAG_PB, version=self._options.cid_version)
        self._emit(cid, (block,))
        return _Entry(cid, len(block), 0)


def _chunks_of_file(fileobj: BinaryIO, chunk_size: int) -> Iterator[memoryview]:
    # A new buffer per chunk: a sink may keep a chunk after the next one is read.
    readinto = getattr(fileobj, "readinto", None)
    while True:
        view = memoryview(bytearray(chunk_size))
        filled = 0
        while filled < chunk_size:
            if readinto is not None:
                got = readinto(view[filled:])
            else:
                piece = fileobj.read(chunk_size - filled)
                got = len(piece)
                view[filled : filled + got] = piece
            if not got:
                break
            filled += got
        if filled:
            yield view[:filled]
        if filled < chunk_size:
            return


def _chunks_of_iterable(pieces: Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    pending = bytearray()
    for piece in pieces:
        if not isinstance(piece, bytes | bytearray | memoryview):
            raise UsageError(f"a stream must yield bytes, not {type(piece).__name__}")
        pending += piece
        if len(pending) >= chunk_size:
            whole = len(pending) - len(pending) % chunk_size
            for start in range(0, whole, chunk_size):
                yield bytes(pending[start : start + chunk_size])
            del pending[:whole]
    if pending:
        yield bytes(pending)


def iter_chunks(
    source: Source, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> Iterator[bytes | memoryview]:
    """Split ``source`` into ``chunk_size`` chunks (the last shorter), like Kubo's ``size-N``.

    Files and file objects are read a chunk at a time, never whole.
    """
    if isinstance(source, str):
        raise UsageError("a str is ambiguous: pass Path(...) for a file or .encode() for text")
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source).cast("B")
        for start in range(0, len(view), chunk_size):
            yield view[start : start + chunk_size]
    elif isinstance(source, os.PathLike):
        with Path(source).open("rb", buffering=0) as fileobj:
            yield from _chunks_of_file(fileobj, chunk_size)
    elif isinstance(source, io.IOBase) or hasattr(source, "read"):
        yield from _chunks_of_file(source, chunk_size)  # type: ignore[arg-type]
    else:
        yield from _chunks_of_iterable(source, chunk_size)


def import_content(
    source: Source, options: ImportOptions | None = None, sink: BlockSink | None = None
) -> ImportResult:
    """Chunk ``source`` and build its DAG, giving every block to ``sink``."""
    options = options or ImportOptions()
    builder = DagBuilder(options, sink)
    for chunk in iter_chunks(source, options.chunk_size):
        builder.add_chunk(chunk)
    return builder.finish()


def compute_cid(
    source: Source,
    *,
    cid_version: int = 1,
    raw_leaves: bool | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_links: int = DEFAULT_MAX_LINKS,
) -> str:
    """The CID ``ipfs add`` gives ``source`` (nothing is stored).

    ``cid_version=1`` is ``ipfs add --cid-version=1`` (raw leaves);
    ``cid_version=0`` is plain ``ipfs add``; ``raw_leaves`` overrides the
    leaf format either way (``--raw-leaves`` / ``--raw-leaves=false``).
    ``chunk_size`` and ``max_links`` match Kubo's ``--chunker=size-N`` and
    ``Import.UnixFSFileMaxLinks``.
    """
    options = ImportOptions(cid_version, raw_leaves, chunk_size, max_links)
    return str(import_content(source, options).cid)
