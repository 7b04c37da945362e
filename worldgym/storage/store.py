"""The storage interface every backend implements, and the parts they share.

A backend provides a few primitives (store a file's DAG, fetch one block,
pin records); :class:`ContentStore` builds the public API on them, so reading
and verifying is the same code whatever holds the blocks::

    with open_store(StoreSettings()) as store:
        cid = store.put_bytes(batch)                 # CIDv1, raw leaves
        data = store.get_bytes(cid, max_bytes=8 << 20)
        store.pin(cid)

CIDs are strings (``Qm...`` for CIDv0, ``bafy...``/``bafk...`` for CIDv1).
Every read verifies every block against its CID and every link against its
parent (:mod:`worldgym.storage.reader`), and is bounded by ``max_bytes`` (default: the
store's ``max_read_bytes``).
"""

from __future__ import annotations

import io
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

from worldgym.core.errors import UsageError
from worldgym.storage.cid import Cid, parse_cid
from worldgym.storage.reader import RawReader, decode_file_node, iter_file, read_file, walk_dag
from worldgym.storage.unixfs import ImportOptions, Source

__all__ = ["DEFAULT_MAX_READ_BYTES", "ContentStat", "ContentStore"]

DEFAULT_MAX_READ_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ContentStat:
    """What a store knows about a CID, from its verified root block.

    ``size`` is the file's length in bytes; ``block_size`` the root block's;
    ``dag_size`` the root block plus every block under it (Kubo's
    CumulativeSize, from the links' Tsize); ``links`` the root's children.
    """

    cid: str
    codec: str
    size: int
    block_size: int
    dag_size: int
    links: int
    pinned: bool

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


class _IterReader(io.RawIOBase):
    """A read-only binary file over an iterator of byte strings."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        n = min(len(target), len(self._pending))
        target[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        super().close()


class ContentStore(ABC):
    """Content-addressed storage of UnixFS files, identical CIDs on every backend."""

    def __init__(self, *, max_read_bytes: int = DEFAULT_MAX_READ_BYTES) -> None:
        if max_read_bytes <= 0:
            raise UsageError(f"max_read_bytes must be positive, not {max_read_bytes}")
        self.max_read_bytes = max_read_bytes

    # -- backend primitives ------------------------------------------------------------

    @abstractmethod
    def _put(self, source: Source, options: ImportOptions, *, pin: bool) -> Cid:
        """Store the DAG of ``source`` built with ``options``; return its root."""

    @abstractmethod
    def get_block(self, cid: Cid) -> bytes:
        """The raw bytes of one block, *unverified* (callers verify); ContentNotFoundError."""

    def _raw_reader(self) -> RawReader | None:
        """A way to read raw blocks straight into a buffer, if the backend has one."""
        return None

    @abstractmethod
    def _has_block(self, cid: Cid) -> bool:
        """Whether the block is held (locally, for a daemon)."""

    @abstractmethod
    def _pin(self, cid: Cid) -> None:
        """Pin the whole DAG under ``cid`` (fails if any block is missing)."""

    @abstractmethod
    def _unpin(self, cid: Cid) -> bool:
        """Remove the pin; False if there was none."""

    @abstractmethod
    def _is_pinned(self, cid: Cid) -> bool:
        """Whether ``cid`` is pinned (recursively)."""

    @abstractmethod
    def pins(self) -> list[str]:
        """The CIDs pinned recursively, as strings."""

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release connections and file handles (the store is not usable afterwards)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------

    def put_bytes(
        self,
        data: bytes | bytearray | memoryview,
        *,
        cid_version: int = 1,
        raw_leaves: bool | None = None,
        pin: bool = False,
    ) -> str:
        """Store ``data``; return the CID ``ipfs add`` gives it with the same options.

        ``cid_version=1`` (default) is ``ipfs add --cid-version=1`` (raw leaves;
        a small batch is then one raw block, ``bafkrei...``); ``cid_version=0``
        is plain ``ipfs add``; ``raw_leaves`` overrides the leaf format.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise UsageError(f"put_bytes takes bytes, not {type(data).__name__}")
        return self._put_source(data, cid_version, raw_leaves, pin)

    def put_file(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 1,
        raw_leaves: bool | None = None,
        pin: bool = False,
    ) -> str:
        """Store the file at ``path`` (read a chunk at a time); return its CID."""
        file_path = Path(path)
        if not file_path.is_file():
            raise UsageError(f"{file_path} is not a readable file")
        return self._put_source(file_path, cid_version, raw_leaves, pin)

    def put_stream(
        self,
        stream: BinaryIO | Iterable[bytes],
        *,
        cid_version: int = 1,
        raw_leaves: bool | None = None,
        pin: bool = False,
    ) -> str:
        """Store what a binary file object or an iterable of bytes yields; return its CID."""
        if isinstance(stream, str | bytes | bytearray | memoryview | os.PathLike):
            raise UsageError("put_stream takes a file object or an iterable of bytes")
        return self._put_source(stream, cid_version, raw_leaves, pin)

    def _put_source(
        self, source: Source, cid_version: int, raw_leaves: bool | None, pin: bool
    ) -> str:
        options = ImportOptions(cid_version=cid_version, raw_leaves=raw_leaves)
        return str(self._put(source, options, pin=pin))

    # -- reading -------------------------------------------------------------------------

    def _limit(self, max_bytes: int | None) -> int:
        limit = self.max_read_bytes if max_bytes is None else max_bytes
        if limit < 0:
            raise UsageError(f"max_bytes must not be negative, not {limit}")
        return limit

    def stream(self, cid: str, *, max_bytes: int | None = None) -> Iterator[bytes]:
        """The content's bytes, a verified block at a time (no more than ``max_bytes``)."""
        return iter_file(parse_cid(cid), self.get_block, max_bytes=self._limit(max_bytes))

    def get_bytes(self, cid: str, *, max_bytes: int | None = None) -> bytes:
        """The whole content, verified; ReadLimitError if it is over ``max_bytes``."""
        return read_file(
            parse_cid(cid),
            self.get_block,
            max_bytes=self._limit(max_bytes),
            read_raw_into=self._raw_reader(),
        )

    def open(self, cid: str, *, max_bytes: int | None = None) -> io.BufferedReader:
        """A read-only binary file over the content (verified as it is read)."""
        return io.BufferedReader(_IterReader(self.stream(cid, max_bytes=max_bytes)))

    def has(self, cid: str) -> bool:
        """Whether the store holds the root block of ``cid`` (``pin`` checks the whole DAG)."""
        return self._has_block(parse_cid(cid))

    def pin(self, cid: str) -> None:
        """Pin ``cid`` and everything under it; fails if any block is missing or corrupt."""
        self._pin(parse_cid(cid))

    def unpin(self, cid: str) -> bool:
        """Remove the pin on ``cid``; False if it was not pinned."""
        return self._unpin(parse_cid(cid))

    def verify(self, cid: str) -> int:
        """Fetch and verify every block under ``cid``; return the file size."""
        root = parse_cid(cid)
        return sum(len(node.data) for node in walk_dag(root, self.get_block, max_bytes=None))

    def stat(self, cid: str) -> ContentStat:
        """Size, codec, links and pin state of ``cid``, from its verified root block."""
        root = parse_cid(cid)
        node = decode_file_node(root, self.get_block(root))
        return ContentStat(
            cid=str(root),
            codec=root.codec_name,
            size=node.filesize,
            block_size=node.block_size,
            dag_size=node.block_size + sum(node.tsizes),
            links=len(node.children),
            pinned=self._is_pinned(root),
        )
