"""`worldgym devnet` and `worldgym status` through the real CLI on a real anvil."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run as _run

from worldgym.deploy.anvil import pid_alive


def test_devnet_up_status_down_leaves_nothing_running(home: Path) -> None:
    code, out = _run("devnet", "up", "--epoch-blocks", "10", "--block-time", "0", "--json")
    assert code == 0, out
    info = json.loads(out)
    assert info["running"] is True
    pid = info["pid"]
    assert pid_alive(pid)

    # Up twice is safe: the same node answers.
    code, out = _run("devnet", "up", "--json")
    assert code == 0, out
    assert json.loads(out)["pid"] == pid

    # The devnet profile was written, so `status` finds the chain and the manifest.
    code, out = _run("status", "--json")
    assert code == 0, out
    status = json.loads(out)
    assert status["network"] == "devnet"
    assert status["chain_id"] == 31337
    assert status["epoch"] >= 0
    manifest = json.loads(Path(info["manifest"]).read_text())
    assert manifest["params"]["epoch_length"] == 10
    assert status["worldgym"] == manifest["addresses"]["worldgym"]

    code, out = _run("status", "--address", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "--json")
    assert code == 0, out
    assert json.loads(out)["account"]["wgt"] == 100_000 * 10**18  # dev accounts are funded

    code, out = _run("devnet", "down")
    assert code == 0, out
    assert not pid_alive(pid)
    code, out = _run("devnet", "status", "--json")
    assert json.loads(out)["running"] is False


def test_status_with_the_devnet_down_is_one_clear_line(home: Path) -> None:
    code, out = _run("devnet", "up", "--block-time", "0", "--json")
    assert code == 0, out
    _run("devnet", "down")
    code, out = _run("status")
    assert code == 1
    assert "cannot reach the RPC" in out
    assert "worldgym devnet up" in out
    assert "Traceback" not in out


def test_missing_profile_says_what_to_set(home: Path) -> None:
    code, out = _run("--network", "sepolia", "status")
    assert code == 2  # a setting to fix
    assert "no network profile 'sepolia'" in out
    assert "WORLDGYM_NETWORKS__SEPOLIA__RPC_URL" in out
    assert "[networks.sepolia]" in out  # brackets survive (not eaten as markup)


def test_fund_then_reset_forgets_the_chain(home: Path) -> None:
    code, out = _run("devnet", "up", "--block-time", "0", "--json")
    assert code == 0, out
    first = json.loads(out)
    stranger = "0x000000000000000000000000000000000000dEaD"
    code, out = _run("devnet", "fund", stranger)
    assert code == 0, out
    code, out = _run("status", "--address", stranger, "--json")
    account = json.loads(out)["account"]
    assert account["wgt"] == 100_000 * 10**18
    assert account["eth"] == 100 * 10**18
    assert account["stake"] == 100 * 10**18, "funded accounts are bonded miners"

    code, out = _run("devnet", "reset", "--yes")
    assert code == 0, out
    assert not pid_alive(first["pid"])
    assert not Path(first["manifest"]).exists()
    code, out = _run("devnet", "status", "--json")
    assert json.loads(out) == {"running": False}


def test_down_then_up_resumes_the_chain_on_the_same_url(home: Path) -> None:
    code, out = _run("devnet", "up", "--block-time", "0", "--json")
    assert code == 0, out
    first = json.loads(out)
    stranger = "0x000000000000000000000000000000000000dEaD"
    assert _run("devnet", "fund", stranger)[0] == 0
    assert _run("devnet", "down")[0] == 0

    code, out = _run("devnet", "up", "--json")
    assert code == 0, out
    second = json.loads(out)
    assert second["url"] == first["url"], "a running miner must find the node again"
    assert second["pid"] != first["pid"]
    code, out = _run("status", "--address", stranger, "--json")
    assert code == 0, out
    assert json.loads(out)["account"]["wgt"] == 100_000 * 10**18  # the same chain


def test_a_wallet_made_after_up_is_funded_bonded_and_can_get_the_refinery_role(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORLDGYM_PASSWORD", "pw")
    assert _run("devnet", "up", "--block-time", "0")[0] == 0
    code, out = _run("wallet", "new", "--name", "bob", "--light-kdf", "--json")
    assert code == 0, out
    bob = json.loads(out)
    assert "funded" in bob["devnet"]
    code, out = _run("status", "--wallet", "bob", "--json")
    account = json.loads(out)["account"]
    assert account["address"] == bob["address"]
    assert account["wgt"] == 100_000 * 10**18
    assert account["stake"] == 100 * 10**18  # the miners' bond: bob can mine at once

    code, out = _run("devnet", "fund", "bob", "--refinery", "--json")
    assert code == 0, out
    assert json.loads(out)["refinery"] is True
