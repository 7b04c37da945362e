"""Blocks as files: crash-safe publication (temp file, fsync, rename) and reads.

:class:`BlockWriter` receives the blocks of one put in DAG order (children
before parents, the root last). Every block but the last is handed to a
writer thread, so hashing the next chunk (which releases the GIL) overlaps
with the file system work of the previous ones. A writer creates a temp file
beside the block's final name (``O_CREAT | O_EXCL``, a name no other writer
uses), writes the block, fsyncs it (``fsync=True``), closes it and renames it
to its name. The last block (the root) is held back until :meth:`flush`:

* every other block is published first (written, fsync'ed, renamed);
* ``fsync=True``: the directories those renames went into are fsync'ed, once
  each and in parallel;
* then the root is written, fsync'ed and renamed, and its directory fsync'ed.

So a name only ever holds a complete block (its bytes are durable before
the rename that names it), a root is never visible before the blocks under
it, and with ``fsync=True`` a root that survives a crash has every block
under it on disk, and everything a put stored is durable once it returns.
Blocks of an unfinished put that were already renamed stay: they are
complete, and the same put run again skips them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

__all__ = ["TMP_PREFIX", "BlockWriter", "fsync_dir", "read_file_into"]

TMP_PREFIX = ".tmp-"
_MAX_SEEN = 65536  # names remembered to skip repeated blocks of one put (~4 MiB)
# Writers spend much of their time waiting: for the journal before a create or a rename
# (while another process's fsync commits it) and, with fsync, for the disk, which commits
# the blocks of concurrent fsyncs together. So there are more writers than cores.
_WRITERS = 4
_WRITERS_FSYNC = 16
_MAX_IN_FLIGHT = 32  # blocks queued for the writers (bounds memory to ~8 MiB)
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_MODE = 0o600

Pieces = Sequence[bytes | memoryview]


def fsync_dir(path: str | os.PathLike[str]) -> None:
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

    ``path_of(key)`` is the final path of the block named ``key``; its
    directory is created when missing. One writer serves one put (one thread).
    """

    def __init__(self, path_of: Callable[[str], str], *, fsync: bool) -> None:
        self._path_of = path_of
        self._fsync = fsync
        self._token = f"{os.getpid():x}-{secrets.token_hex(4)}"
        self._serial = itertools.count()
        self._pool: ThreadPoolExecutor | None = None
        self._running: list[Future[str]] = []
        self._held: tuple[str, Pieces] | None = None
        self._seen: set[str] = set()
        self._dirs: set[str] = set()  # directories renamed into (fsync'ed by flush)

    def add(self, key: str, pieces: Pieces) -> None:
        """Store the block named ``key`` (its pieces must stay unchanged until flush)."""
        if key in self._seen:
            return
        if len(self._seen) >= _MAX_SEEN:
            self._seen.clear()  # only an optimisation: a repeated block is written again
        self._seen.add(key)
        final = self._path_of(key)
        if os.path.exists(final):
            # Content-addressed: the same name always holds the same bytes. Another put may
            # have just renamed it there, so its directory is fsync'ed with ours.
            if self._fsync:
                self._dirs.add(os.path.dirname(final))
            return
        if self._held is not None:
            self._submit(*self._held)
        self._held = (final, pieces)

    def _submit(self, final: str, pieces: Pieces) -> None:
        if self._pool is None:
            workers = _WRITERS_FSYNC if self._fsync else _WRITERS
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="storage-write")
        self._running.append(self._pool.submit(self._publish, final, pieces))
        if len(self._running) > _MAX_IN_FLIGHT:
            self._reap(wait_for=len(self._running) - _MAX_IN_FLIGHT)

    def _reap(self, wait_for: int) -> None:
        """Wait for the oldest ``wait_for`` writes; keep their directories; raise their error."""
        done, self._running = self._running[:wait_for], self._running[wait_for:]
        self._dirs.update(_results(done))

    def _publish(self, final: str, pieces: Pieces) -> str:
        """Write a block to a temp file, fsync it (durable mode), rename it; its directory."""
        directory = os.path.dirname(final)
        tmp = self._create(directory)
        try:
            fd = tmp[0]
            try:
                for piece in pieces:
                    view = memoryview(piece)
                    while view:
                        view = view[os.write(fd, view) :]
                if self._fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp[1], final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp[1])
            raise
        return directory

    def _create(self, directory: str) -> tuple[int, str]:
        """Open a new temp file in ``directory`` (made if missing): ``(fd, path)``."""
        for _ in range(100):
            path = f"{directory}/{TMP_PREFIX}{self._token}-{next(self._serial)}"
            try:
                return os.open(path, _FLAGS, _MODE), path
            except FileNotFoundError:
                os.makedirs(directory, exist_ok=True)
            except FileExistsError:
                continue  # left by a killed writer whose pid and token were the same
        raise FileExistsError(f"cannot create a temp file in {directory}")

    def flush(self) -> None:
        """Publish every block added so far, the last one (the root) after all others."""
        self._reap(wait_for=len(self._running))
        if self._fsync and self._dirs:
            self._sync_dirs(sorted(self._dirs))
        if self._held is not None:
            final, pieces = self._held
            self._held = None
            directory = self._publish(final, pieces)
            if self._fsync:
                fsync_dir(directory)
        self._dirs.clear()

    def _sync_dirs(self, directories: list[str]) -> None:
        if len(directories) == 1 or self._pool is None:
            for directory in directories:
                fsync_dir(directory)
            return
        list(self._pool.map(fsync_dir, directories))

    def abort(self) -> None:
        """Stop after an error (which the caller raises): the root is never published.

        Writes already running finish (their blocks are complete); each failed
        write removed its own temp file.
        """
        self._held = None
        running, self._running = self._running, []
        for future in running:
            future.exception()
        self.close()

    def close(self) -> None:
        """Stop the threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _results(futures: Iterable[Future[str]]) -> list[str]:
    """Every future's result, in order; after waiting for all, raise the first error."""
    results: list[str] = []
    failure: BaseException | None = None
    for future in futures:
        try:
            results.append(future.result())
        except BaseException as exc:  # every write must finish before raising
            failure = failure or exc
    if failure is not None:
        raise failure
    return results
