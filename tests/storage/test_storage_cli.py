"""``worldgym storage`` commands through Typer's CliRunner: exit codes and output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from storage_vectors import pattern
from typer.testing import CliRunner

from worldgym.cli.storage import app
from worldgym.storage import LocalStore, compute_cid

runner = CliRunner()
HELLO_V0 = "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
HELLO_V1 = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
HELLO_V1_WRAPPED = "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa"


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello world")
    return path


def _ok(args: list[str], stdin: bytes | None = None) -> str:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], HELLO_V1),
        (["--cid-version", "1"], HELLO_V1),
        (["--cid-version", "0"], HELLO_V0),
        (["--cid-version", "1", "--no-raw-leaves"], HELLO_V1_WRAPPED),
        (["--cid-version", "0", "--raw-leaves"], HELLO_V1),
    ],
)
def test_cid_prints_kubo_s_cid(hello: Path, flags: list[str], expected: str) -> None:
    assert _ok(["cid", str(hello), *flags]).strip() == expected


def test_cid_reads_stdin_and_refuses_bad_input(tmp_path: Path) -> None:
    assert _ok(["cid", "-"], stdin=b"hello world").strip() == HELLO_V1
    missing = runner.invoke(app, ["cid", str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert "not a readable file" in missing.output
    bad_version = runner.invoke(app, ["cid", "-", "--cid-version", "2"], input=b"")
    assert bad_version.exit_code == 2


def test_put_get_pin_stat_round_trip(tmp_path: Path) -> None:
    store = tmp_path / "store"
    data = pattern(300_000)
    source = tmp_path / "data.bin"
    source.write_bytes(data)
    cid = _ok(["put", str(source), "--store", str(store)]).strip()
    assert cid == compute_cid(data)
    out = tmp_path / "out.bin"
    _ok(["get", cid, "-o", str(out), "--store", str(store)])
    assert out.read_bytes() == data
    assert _ok(["pin", cid, "--store", str(store)]).strip() == f"pinned {cid}"
    info = json.loads(_ok(["stat", cid, "--json", "--store", str(store)]))
    assert info == {
        "cid": cid,
        "codec": "dag-pb",
        "size": len(data),
        "block_size": info["block_size"],
        "dag_size": info["dag_size"],
        "links": 2,
        "pinned": True,
    }
    assert "pinned      True" in _ok(["stat", cid, "--store", str(store)])


def test_get_to_stdout_and_the_store_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORLDGYM_STORAGE__PATH", str(tmp_path / "env-store"))
    cid = _ok(["put", "-", "--cid-version", "0"], stdin=b"hello world").strip()
    assert cid == HELLO_V0
    assert LocalStore(tmp_path / "env-store").has(cid)
    result = runner.invoke(app, ["get", cid])
    assert result.exit_code == 0
    assert result.stdout_bytes == b"hello world"


def test_get_errors_leave_no_partial_file(tmp_path: Path) -> None:
    store = tmp_path / "store"
    cid = _ok(["put", "-", "--store", str(store)], stdin=pattern(600_000)).strip()
    out = tmp_path / "out.bin"
    args = ["get", cid, "-o", str(out), "--max-bytes", "10", "--store", str(store)]
    limited = runner.invoke(app, args)
    assert limited.exit_code == 1
    assert "over the 10-byte limit" in limited.output
    assert not out.exists()
    assert list(tmp_path.glob(".out.bin.*")) == []
    absent = runner.invoke(app, ["get", compute_cid(b"absent"), "--store", str(store)])
    assert absent.exit_code == 1
    assert "not in the local store" in absent.output


def test_check_finds_and_repairs_a_corrupt_block(tmp_path: Path) -> None:
    store = tmp_path / "store"
    cid = _ok(["put", "-", "--store", str(store)], stdin=b"keep me intact").strip()
    assert "1 blocks ok, 0 corrupt" in _ok(["check", "--store", str(store)])
    LocalStore(store).block_path(cid).write_bytes(b"rotten")
    bad = runner.invoke(app, ["check", "--store", str(store)])
    assert bad.exit_code == 1
    assert "1 corrupt" in bad.output
    repaired = json.loads(_ok(["check", "--repair", "--json", "--store", str(store)]))
    assert len(repaired["removed"]) == 1
    assert "0 blocks ok, 0 corrupt" in _ok(["check", "--store", str(store)])


def test_a_kubo_that_is_down_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLDGYM_STORAGE__RETRIES", "0")
    result = runner.invoke(
        app, ["stat", HELLO_V1, "--backend", "kubo", "--kubo-api", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "error: the Kubo RPC API at http://127.0.0.1:9 cannot be reached" in result.output
    bad = runner.invoke(app, ["stat", HELLO_V1, "--backend", "nope"])
    assert bad.exit_code == 2
    assert "invalid storage settings" in bad.output
