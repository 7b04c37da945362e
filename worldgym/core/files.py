"""Durable file writes: after a crash a file holds either its old bytes or all of its new ones.

One helper for every document an actor keeps on disk (settings, deployment
manifests, wallets, spooled batches, the refinery's state and documents): the
bytes go to a temporary file beside the target, are flushed and fsynced,
renamed over the target, and the directory is fsynced so the rename itself
survives a power cut. A write that fails leaves the old file untouched and no
temporary file behind. (The content store's block files have their own
batched writer, :mod:`worldgym.storage.blockfiles`.)
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["durable_path", "fsync_directory", "write_durably"]


def write_durably(
    path: Path, data: bytes, *, mode: int | None = None, exclusive: bool = False
) -> None:
    """Replace ``path`` with ``data`` atomically and durably (parents are created).

    ``mode`` sets the file's permission bits before the rename (e.g. ``0o600``
    for private files, so the data is never readable by others, even briefly);
    otherwise the file gets the usual ``0o666`` less the umask. ``exclusive``
    creates the file only if nothing is at ``path`` (else :class:`FileExistsError`),
    still never leaving a partial file there.
    """
    with durable_path(path, mode=mode, exclusive=exclusive) as tmp, open(tmp, "wb") as out:
        out.write(data)


@contextmanager
def durable_path(
    path: Path, *, suffix: str = ".tmp", mode: int | None = None, exclusive: bool = False
) -> Iterator[Path]:
    """A temporary path beside ``path`` to write by name (a plot, a table, a stream).

    When the block succeeds the file is fsynced and renamed onto ``path``, then
    the directory is fsynced; when it raises, ``path`` is untouched and the
    temporary file is gone. ``mode`` and ``exclusive`` are as in :func:`write_durably`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    tmp = Path(name)
    try:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        os.close(fd)
        fd = -1
        yield tmp
        os.chmod(tmp, mode)  # a writer that replaced the file by name got the default mode
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        if exclusive:
            _link_exclusively(tmp, path)
        else:
            os.replace(tmp, path)
        fsync_directory(path.parent)
    finally:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)


def _link_exclusively(tmp: Path, path: Path) -> None:
    """Give ``tmp``'s bytes the name ``path`` only if nothing has it (FileExistsError else).

    A hard link does it atomically; where the file system has none, ``path`` is
    claimed with ``O_EXCL`` first and then replaced (an empty file for an instant).
    """
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.replace(tmp, path)


def fsync_directory(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
