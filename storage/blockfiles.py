"""Blocks as files: crash-safe publication (temp file, fsync, rename) and reads.

:class:`BlockWriter` receives the blocks of one put in DAG order (children
before parents, the root last). Each is written to a temporary file beside
its final name by one worker thread, so hashing the next chunk (which
releases the GIL) overlaps with the file system work of the previous one.
Publication keeps the order:

* ``fsync=False``: the worker renames each block to its CID as soon as it is
  written;
* ``fsync=True``: blocks are published in batches: every temp file of the
  batch is fsync'ed (in parallel, so the file system can commit them
  together), then renamed in order, then their directories are fsync'ed.

Either way a name only ever holds a complete block, and a root is never
visible before the blocks under it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["TMP_PREFIX", "BlockWriter", "fsync_dir", "read_file_into"]

TMP_PREFIX = ".tmp-"
_BATCH_BYTES = 8 * 1024 * 1024  # a batch is published while the next one is written
_BATCH_FILES = 64
_MAX_BATCHES = 2  # sealed batches waiting for the publisher (bounds open files)
_MAX_IN_FLIGHT = 16  # blocks queued for the writers (bounds memory to ~4 MiB)
_WRITERS = 3
_FSYNC_THREADS = 8


@dataclass(slots=True)
class _Written:
    fd: int | None  # open until fsync'ed (durable mode)
    tmp: str
    final: Path
    published: bool = False


def fsync_dir(path: Path) -> None:
    """fsync a directory, so that renames into it survive a power loss."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_file_into(path: Path, target: memoryview) -> int:
    """Read the file at ``path`` into ``target`` if it is exactly ``len(target)`` bytes.

    Returns the file's size (the caller treats any other size as an error);
    raises FileNotFoundError.
    """
    with path.open("rb", buffering=0) as fileobj:
        size = os.fstat(fileobj.fileno()).st_size
        if size != len(target):
            return size
        filled = 0
        while filled < size:
            got = fileobj.readinto(target[filled:])
            if not got:
                return filled
            filled += got
        return size


class BlockWriter:
    """Publishes the blocks of one put; call :meth:`flush` at the end, :meth:`abort` on error.

    Three stages run at once: the caller hashes (the DAG builder), writer
    threads write temp files, and one publisher thread takes sealed batches in
    order, fsyncs them (durable mode) and renames their blocks in order.
    """

    def __init__(self, path_of: Callable[[str], Path], *, fsync: bool) -> None:
        self._path_of = path_of
        self._fsync = fsync
        self._writers: ThreadPoolExecutor | None = None
        self._publisher: ThreadPoolExecutor | None = None
        self._syncer: ThreadPoolExecutor | None = None
        self._batch: list[Future[_Written] | _Written] = []
        self._batch_bytes = 0
        self._publishing: list[Future[None]] = []
        self._unpublished: set[str] = set()
        self._made_dirs: set[Path] = set()

    def add(self, key: str, pieces: Sequence[bytes | memoryview]) -> None:
        """Write the block named ``key`` (its pieces must stay unchanged until flush)."""
        if key in self._unpublished:
            return
        final = self._path_of(key)
        if final.exists():
            return  # content-addressed: the same name always holds the same bytes
        self._unpublished.add(key)
        self._batch_bytes += sum(len(piece) for piece in pieces)
        if self._writers is None and not self._batch and not self._publishing:
            self._batch.append(self._write(final, pieces))  # a one-block put: no threads
        else:
            if self._writers is None:
                self._writers = ThreadPoolExecutor(_WRITERS, thread_name_prefix="storage-write")
            self._batch.append(self._writers.submit(self._write, final, pieces))
            _wait_oldest(self._batch, _MAX_IN_FLIGHT)
        if self._batch_bytes >= _BATCH_BYTES or len(self._batch) >= _BATCH_FILES:
            self._seal()

    def _write(self, final: Path, pieces: Sequence[bytes | memoryview]) -> _Written:
        directory = final.parent
        if directory not in self._made_dirs:
            directory.mkdir(parents=True, exist_ok=True)
            self._made_dirs.add(directory)
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=directory)
        try:
            for piece in pieces:
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view) :]
            if not self._fsync:
                os.close(fd)
                return _Written(None, tmp, final)
        except BaseException:
            _discard([_Written(fd, tmp, final)])
            raise
        return _Written(fd, tmp, final)

    def _seal(self) -> None:
        """Hand the current batch to the publisher (or publish it here if nothing is running)."""
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        if not batch:
            return
        if self._publisher is None and not any(isinstance(item, Future) for item in batch):
            self._publish(batch)  # a one-block put: no threads
            return
        if self._publisher is None:
            self._publisher = ThreadPoolExecutor(1, thread_name_prefix="storage-publish")
        self._publishing.append(self._publisher.submit(self._publish, batch))
        _wait_oldest(self._publishing, _MAX_BATCHES)

    def _sync_all(self, fsync: Callable[[Any], None], targets: Sequence[Any]) -> None:
        """fsync every target, in parallel when there are several."""
        if len(targets) <= 1:
            for target in targets:
                fsync(target)
            return
        if self._syncer is None:
            self._syncer = ThreadPoolExecutor(_FSYNC_THREADS, thread_name_prefix="storage-fsync")
        list(self._syncer.map(fsync, targets))

    def _publish(self, batch: list[Future[_Written] | _Written]) -> None:
        written = _collect(batch, strict=True)
        try:
            if self._fsync:
                self._sync_all(os.fsync, [block.fd for block in written])
            for block in written:
                if block.fd is not None:
                    os.close(block.fd)
                    block.fd = None
                os.replace(block.tmp, block.final)
                block.published = True
        except BaseException:
            _discard(written)
            raise
        if self._fsync:
            self._sync_all(fsync_dir, sorted({block.final.parent for block in written}))
        self._unpublished.difference_update(block.final.name for block in written)

    def flush(self) -> None:
        """Publish every block added so far; raise the first error of any stage."""
        self._seal()
        publishing, self._publishing = self._publishing, []
        failure: BaseException | None = None
        for future in publishing:  # wait for all, in order, before raising
            try:
                future.result()
            except BaseException as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def abort(self) -> None:
        """Drop every block not yet published (after an error, which the caller raises)."""
        for future in self._publishing:
            future.exception()  # a failed batch discarded its own temp files
        self._publishing = []
        _discard(_collect(self._batch, strict=False))
        self._batch = []
        self.close()

    def close(self) -> None:
        """Stop the threads."""
        for executor in (self._writers, self._publisher, self._syncer):
            if executor is not None:
                executor.shutdown(wait=True)
        self._writers = self._publisher = self._syncer = None


def _wait_oldest(items: Sequence[Future[Any] | Any], limit: int) -> None:
    """Block until at most ``limit`` of the futures in ``items`` are still running."""
    running = [item for item in items if isinstance(item, Future) and not item.done()]
    for future in running[: max(0, len(running) - limit)]:
        future.exception()  # wait; errors are raised where the results are collected


def _collect(batch: list[Future[_Written] | _Written], *, strict: bool) -> list[_Written]:
    """The results of a batch's writes; with ``strict``, discard them all and raise on error."""
    written: list[_Written] = []
    failure: BaseException | None = None
    for item in batch:
        try:
            written.append(item.result() if isinstance(item, Future) else item)
        except BaseException as exc:  # every write must be collected before raising
            failure = failure or exc
    if failure is not None and strict:
        _discard(written)
        raise failure
    return written


def _discard(blocks: list[_Written]) -> None:
    """Close and delete the temp files of blocks that were not published."""
    for block in blocks:
        if block.published:
            continue
        if block.fd is not None:
            with contextlib.suppress(OSError):
                os.close(block.fd)
            block.fd = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(block.tmp)
