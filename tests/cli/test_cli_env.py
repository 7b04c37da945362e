"""`worldgym env register | update | transfer | list | show | tasks` on a devnet, with wallets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run
from web3 import Web3

from worldgym.gym.environments import example_path

# anvil's dev keys 1 and 2 (public test keys, never real funds).
OWNER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
OTHER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


@pytest.fixture
def devnet(home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("WORLDGYM_PASSWORD", "correct horse")
    for name, key in (("owner", OWNER_KEY), ("other", OTHER_KEY)):
        key_file = home / f"{name}.key"
        key_file.write_text(key)
        code, out = run(
            "wallet", "import", "--name", name, "--key-file", str(key_file), "--light-kdf"
        )
        assert code == 0, out
    code, out = run("devnet", "up", "--block-time", "0", "--json")
    assert code == 0, out
    info: dict[str, object] = json.loads(out)
    return info


def test_register_update_transfer_with_owner_checks(devnet: dict[str, object]) -> None:
    arithmetic, algebra = example_path("arithmetic"), example_path("algebra")
    code, out = run("env", "register", str(arithmetic), "--wallet", "owner", "--json")
    assert code == 0, out
    registered = json.loads(out)
    assert registered["env_id"] == 1
    assert registered["cid"].startswith("bafkrei")  # one raw block, CIDv1

    code, out = run("env", "show", "1", "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["owner"] == OWNER
    assert shown["versions"] == {"1": registered["cid"]}
    assert shown["spec"]["name"] == "arithmetic"

    # Only the owner may publish a version; the refusal is one line, not a traceback.
    code, out = run("env", "update", "1", str(algebra), "--wallet", "other")
    assert code == 1
    assert "RegistryNotOwner" in out or "not the owner" in out
    assert "Traceback" not in out

    code, out = run("env", "update", "1", str(algebra), "--wallet", "owner", "--json")
    assert code == 0, out
    assert json.loads(out)["version"] == 2

    code, out = run("env", "transfer", "1", OTHER, "--wallet", "owner")
    assert code == 0, out
    code, out = run("env", "update", "1", str(arithmetic), "--wallet", "owner")
    assert code == 1  # no longer the owner
    code, out = run("env", "update", "1", str(arithmetic), "--wallet", "other", "--json")
    assert code == 0, out
    assert json.loads(out)["version"] == 3

    code, out = run("env", "list", "--json")
    assert code == 0, out
    (listed,) = json.loads(out)
    assert (listed["owner"], listed["version_count"], listed["active"]) == (OTHER, 3, True)


def test_tasks_by_environment_id_and_epoch(devnet: dict[str, object]) -> None:
    code, out = run("env", "register", str(example_path("arithmetic")), "--wallet", "owner")
    assert code == 0, out
    code, out = run("env", "tasks", "1", "--epoch", "0", "--miner", OWNER, "--count", "2", "--json")
    assert code == 2  # bad input, as for every `env tasks` input error
    assert "no seed on chain yet" in out

    w3 = Web3(Web3.HTTPProvider(str(devnet["url"])))
    manifest = json.loads(Path(str(devnet["manifest"])).read_text())
    gym = w3.eth.contract(
        address=manifest["addresses"]["worldgym"],
        abi=[{"type": "function", "name": "pokeSeed", "stateMutability": "nonpayable",
              "inputs": [{"name": "epoch", "type": "uint256"}], "outputs": []}],
    )  # fmt: skip
    gym.functions.pokeSeed(0).transact({"from": w3.eth.accounts[0]})

    code, out = run("env", "tasks", "1", "--epoch", "0", "--miner", OWNER, "--count", "2", "--json")
    assert code == 0, out
    tasks = json.loads(out)
    assert [t["index"] for t in tasks] == ["0", "1"]
    assert all(t["prompt"][-1]["content"] for t in tasks)
