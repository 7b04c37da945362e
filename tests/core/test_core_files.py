"""Durable writes: the old bytes or all of the new ones, fsynced, never a stray temp file."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from worldgym.client.config import NetworkProfile, save_profile
from worldgym.core import files as durable
from worldgym.core.files import durable_path, write_durably


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_writes_creates_parents_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "doc.json"
    write_durably(target, b"one")
    assert target.read_bytes() == b"one"
    write_durably(target, b"two, longer")
    assert target.read_bytes() == b"two, longer"
    assert _listing(target.parent) == ["doc.json"]


def test_a_private_file_is_never_readable_by_others(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    write_durably(target, b"x", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_default_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_durably(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o640


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "doc"
    write_durably(target, b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="Input/output"):
        write_durably(target, b"new")
    assert target.read_bytes() == b"old"
    assert _listing(tmp_path) == ["doc"]


def test_the_rename_is_made_durable_by_fsyncing_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_durably(tmp_path / "doc", b"data")
    assert synced == ["file", "dir"]


def test_saving_a_network_profile_goes_through_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[Path] = []
    real = durable.write_durably

    def spy(path: Path, data: bytes, *, mode: int | None = None, exclusive: bool = False) -> None:
        written.append(path)
        real(path, data, mode=mode, exclusive=exclusive)

    monkeypatch.setattr("worldgym.client.config.write_durably", spy)
    config = tmp_path / "config.toml"
    save_profile(
        "devnet",
        NetworkProfile(rpc_url="http://127.0.0.1:8545", chain_id=31337),
        config_path=config,
    )
    assert written == [config]
    assert "127.0.0.1:8545" in config.read_text()


def test_an_exclusive_write_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "key.json"
    write_durably(target, b"first", mode=0o600, exclusive=True)
    with pytest.raises(FileExistsError):
        write_durably(target, b"second", exclusive=True)
    assert target.read_bytes() == b"first"
    assert _listing(tmp_path) == ["key.json"]


def test_a_path_written_by_name_lands_only_when_the_block_succeeds(tmp_path: Path) -> None:
    target = tmp_path / "plot.png"

    def plot_fails() -> None:
        with durable_path(target, suffix=".png") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("the plotter failed")

    with pytest.raises(RuntimeError):
        plot_fails()
    assert _listing(tmp_path) == []
    with durable_path(target, suffix=".png", mode=0o600) as tmp:
        tmp.unlink()  # a writer that replaces the file by name
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_exclusive_writes_work_where_there_are_no_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: object, target: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "key.json"
    write_durably(target, b"first", mode=0o600, exclusive=True)
    assert target.read_bytes() == b"first"
    with pytest.raises(FileExistsError):
        write_durably(target, b"second", exclusive=True)
    assert target.read_bytes() == b"first"
    assert _listing(tmp_path) == ["key.json"]
