"""Durable file writes: after a crash a file holds either its old bytes or all of its new ones.

One helper for every small document an actor keeps on disk (settings,
deployment manifests, spooled batches): the bytes go to a temporary file
beside the target, are flushed and fsynced, renamed over the target, and the
directory is fsynced so the rename itself survives a power cut. A write that
fails leaves the old file untouched and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_durably"]


def write_durably(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically and durably (parents are created).

    ``mode`` sets the file's permission bits before the rename (e.g. ``0o600``
    for private files, so the data is never readable by others, even briefly);
    otherwise the file gets the usual ``0o666`` less the umask.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        _fsync_directory(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
