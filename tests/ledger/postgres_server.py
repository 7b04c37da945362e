"""A real PostgreSQL server for the ledger's tests: a fresh cluster on a free loopback port.

Uses the machine's PostgreSQL binaries (Debian's ``postgresql`` package puts them
in ``/usr/lib/postgresql/<version>/bin``; ``make sysdeps`` installs it as root).
As root, the cluster is owned by and run as the ``postgres`` user, since the
server refuses to run as root. The server is stopped by its pid.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from worldgym.deploy.anvil import free_port

__all__ = ["find_binaries", "postgres_server"]

_USER = "postgres"


def find_binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding ``initdb`` and ``postgres``, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for bin_dir in reversed(found):
        if (bin_dir / "initdb").is_file() and (bin_dir / "postgres").is_file():
            return bin_dir
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _as_server_user() -> tuple[list[str], int | None]:
    """The command prefix that runs a program as the server's user, and that user's uid."""
    if os.geteuid() != 0:
        return [], None
    return ["runuser", "-u", _USER, "--"], pwd.getpwnam(_USER).pw_uid


@contextmanager
def postgres_server(bin_dir: Path) -> Iterator[str]:
    """Start a throwaway cluster; yield the SQLAlchemy URL of its ``postgres`` database."""
    prefix, uid = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="worldgym-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if uid is not None:
        os.chown(root, uid, -1)
        os.chown(sockets, uid, -1)
    port = free_port()
    process: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "ledger", "--auth=trust",
             "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        process = subprocess.Popen(
            [*prefix, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
             "-h", "127.0.0.1", "-k", str(sockets), "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"postgresql+psycopg://ledger@127.0.0.1:{port}/postgres"
        _wait_ready(port, process)
        yield url
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)  # "smart" shutdown of runuser and the server
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    import psycopg

    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode} before accepting")
        try:
            psycopg.connect(f"host=127.0.0.1 port={port} user=ledger dbname=postgres").close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
