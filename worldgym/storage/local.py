"""The embedded store: blocks as files on local disk, nothing to install.

Layout under the store's root::

    blocks/<shard>/<cid>    one file per block, named by the block's CIDv1 (base32);
                            <shard> is the two characters before the name's last one
                            (like Kubo's flatfs next-to-last/2)
    blocks/<shard>/.tmp-*   a block being written (ignored by readers)
    pins/<cid>              one small JSON file per recursive pin

Writing (:mod:`worldgym.storage.blockfiles`): a block goes to a temporary file in its
shard, is fsync'ed (``fsync=True``, the default) and only then renamed to its
CID; the root of a put is renamed last, after the shard directories of all
the other blocks were fsync'ed, and its own directory is fsync'ed before the
put returns. So a crash at any point never leaves a partial block under a
valid name, a root is never visible (nor, after a crash, present) without
the blocks under it, and a put that returned is durable. Concurrent writers
(threads or processes) are safe: temporary names are unique, a rename is
atomic, and two writers of one block write the same bytes.
:meth:`LocalStore.check` verifies every block and clears temp files a killed
writer left.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from worldgym.storage.blockfiles import TMP_PREFIX, BlockWriter, fsync_dir, read_file_into
from worldgym.storage.cid import Cid, parse_cid
from worldgym.storage.errors import (
    CidError,
    ContentNotFoundError,
    IntegrityError,
    StorageError,
)
from worldgym.storage.reader import MAX_BLOCK_SIZE, RawReader, verify_block, walk_dag
from worldgym.storage.store import DEFAULT_MAX_READ_BYTES, ContentStore
from worldgym.storage.unixfs import ImportOptions, Source, import_content

__all__ = ["LocalStore", "StoreReport"]

_STALE_TMP_S = 3600.0


def _shard_and_name(key: str) -> str:
    """``<shard>/<key>``: the shard is the two characters before the key's last one."""
    return f"{key[-3:-1]}/{key}"


def _block_key(cid: Cid) -> str:
    """The file name of a block: its CIDv1 string (a CIDv0 names the same dag-pb block)."""
    return str(cid.to_v1())


@dataclass
class StoreReport:
    """What :meth:`LocalStore.check` found: good blocks, bad ones and leftovers."""

    blocks_ok: int = 0
    corrupt: list[str] = field(default_factory=list)
    misnamed: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """True when every named block hashes to its name (temp files do not count)."""
        return not self.corrupt and not self.misnamed


class LocalStore(ContentStore):
    """Blocks on disk under ``root`` (created on first write; nothing happens here)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        fsync: bool = True,
        max_read_bytes: int = DEFAULT_MAX_READ_BYTES,
    ) -> None:
        super().__init__(max_read_bytes=max_read_bytes)
        self.root = Path(root).expanduser()
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    @property
    def _blocks(self) -> Path:
        return self.root / "blocks"

    @property
    def _pins(self) -> Path:
        return self.root / "pins"

    def _block_path(self, key: str) -> Path:
        return self._blocks / _shard_and_name(key)

    def block_path(self, cid: str | Cid) -> Path:
        """Where the block ``cid`` is (or would be) stored."""
        return self._block_path(_block_key(parse_cid(cid)))

    # -- primitives ----------------------------------------------------------------------

    def _put(self, source: Source, options: ImportOptions, *, pin: bool) -> Cid:
        blocks = str(self._blocks)
        writer = BlockWriter(lambda key: f"{blocks}/{_shard_and_name(key)}", fsync=self.fsync)
        try:
            result = import_content(source, options, lambda c, p: writer.add(_block_key(c), p))
            writer.flush()
        except BaseException:
            writer.abort()
            raise
        writer.close()
        if pin:
            self._write_pin(result.cid)
        return result.cid

    def get_block(self, cid: Cid) -> bytes:
        path = self._block_path(_block_key(cid))
        try:
            with path.open("rb", buffering=0) as fileobj:
                size = os.fstat(fileobj.fileno()).st_size
                if size > MAX_BLOCK_SIZE:
                    raise IntegrityError(
                        f"block {cid} is {size} bytes on disk, over the block limit", cid=str(cid)
                    )
                return fileobj.read()
        except FileNotFoundError:
            raise self._missing(cid) from None

    def _raw_reader(self) -> RawReader:
        def read_into(cid: Cid, target: memoryview) -> int:
            try:
                return read_file_into(self._block_path(_block_key(cid)), target)
            except FileNotFoundError:
                raise self._missing(cid) from None

        return read_into

    def _missing(self, cid: Cid) -> ContentNotFoundError:
        return ContentNotFoundError(f"{cid} is not in the local store at {self.root}", cid=str(cid))

    def _has_block(self, cid: Cid) -> bool:
        return self._block_path(_block_key(cid)).is_file()

    def _pin(self, cid: Cid) -> None:
        for _ in walk_dag(cid, self.get_block, max_bytes=None):
            pass  # every block present and verified
        self._write_pin(cid)

    def _write_pin(self, cid: Cid) -> None:
        self._pins.mkdir(parents=True, exist_ok=True)
        record = json.dumps({"cid": str(cid), "pinned_at": int(time.time())}).encode()
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=self._pins)
        try:
            os.write(fd, record)
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self._pins / _block_key(cid))
        if self.fsync:
            fsync_dir(self._pins)

    def _unpin(self, cid: Cid) -> bool:
        try:
            (self._pins / _block_key(cid)).unlink()
        except FileNotFoundError:
            return False
        return True

    def _is_pinned(self, cid: Cid) -> bool:
        return (self._pins / _block_key(cid)).is_file()

    def pins(self) -> list[str]:
        if not self._pins.is_dir():
            return []
        found = []
        for entry in sorted(self._pins.iterdir()):
            if entry.name.startswith(TMP_PREFIX):
                continue
            try:
                found.append(json.loads(entry.read_bytes())["cid"])
            except (ValueError, KeyError):
                raise StorageError(
                    f"pin record {entry} is unreadable; delete it and pin {entry.name} again"
                ) from None
        return found

    # -- maintenance ---------------------------------------------------------------------

    def iter_blocks(self) -> Iterator[Path]:
        """Every file under ``blocks/`` (block files and temp files)."""
        if not self._blocks.is_dir():
            return
        for shard in sorted(self._blocks.iterdir()):
            if shard.is_dir():
                yield from sorted(shard.iterdir())

    def check(self, *, repair: bool = False, stale_after_s: float = _STALE_TMP_S) -> StoreReport:
        """Verify every block on disk against its name.

        With ``repair``, delete corrupt and misnamed blocks (a later put or
        fetch writes them again) and temp files older than ``stale_after_s``
        (younger ones may belong to a writer that is still running).
        """
        report = StoreReport()
        now = time.time()
        for path in self.iter_blocks():
            if path.name.startswith(TMP_PREFIX):
                report.temp_files.append(str(path))
                if repair and now - path.stat().st_mtime > stale_after_s:
                    path.unlink(missing_ok=True)
                    report.removed.append(str(path))
                continue
            try:
                cid = Cid.parse(path.name)
                if path.parent.name != path.name[-3:-1] or _block_key(cid) != path.name:
                    raise CidError("not in its shard or not a canonical name")
                verify_block(cid, path.read_bytes())
            except CidError:
                report.misnamed.append(str(path))
            except IntegrityError:
                report.corrupt.append(str(path))
            else:
                report.blocks_ok += 1
                continue
            if repair:
                path.unlink(missing_ok=True)
                report.removed.append(str(path))
        return report
