"""`worldgym deploy` against a second anvil standing in for a remote network, then a miner round.

The remote chain has its own chain id and is reached only by URL; the deployer
signs from an encrypted keystore file. After the deployment the client finds the
manifest through a network profile, and a Protocol client runs one round on it:
a refinery registers a model, the deployer registers an environment, a miner
submits a batch and reads it back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deploy_helpers import REMOTE_CHAIN_ID, KeyFile, fund_eth, make_keyfile
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from tests.cli.cli_helpers import run
from worldgym.chain.contracts import Protocol
from worldgym.chain.manifest import Deployment
from worldgym.chain.messages import protocol_decoder
from worldgym.chain.tx import TxSender
from worldgym.client.session import Session
from worldgym.client.wallet import unlock_keyfile
from worldgym.core.amounts import WAD
from worldgym.deploy.anvil import AnvilProcess
from worldgym.deploy.devchain import raw_cid
from worldgym.gym.environment import load_spec
from worldgym.gym.environments import example_path
from worldgym.gym.registry import pin_spec
from worldgym.storage import StoreSettings, open_store

_PARAMS = """\
preset = "devnet"
epoch_length = 40
commit_blocks = 20
reveal_blocks = 20
min_stake = "500 WGT"
max_traces_per_batch = 256
"""


def _deploy(remote: AnvilProcess, key: KeyFile, *extra: str) -> tuple[int, str]:
    return run(
        "deploy", "--rpc", remote.url, "--keystore", str(key.path),
        "--password-file", str(key.password_file), "--yes", *extra,
    )  # fmt: skip


def test_deploy_by_url_with_a_keystore_then_one_miner_round(
    home: Path, remote: AnvilProcess, remote_w3: Web3, deployer: KeyFile
) -> None:
    params = home / "params.toml"
    params.write_text(_PARAMS)
    refinery = Account.create()
    code, out = _deploy(
        remote, deployer, "--params", str(params), "--refinery", refinery.address,
        "--profile", "remote", "--save-profile", "--json",
    )  # fmt: skip
    assert code == 0, out
    result = json.loads(out)

    # The manifest is where the client looks for this chain, and it says what was asked for.
    target = home / "data" / "deployments" / f"{REMOTE_CHAIN_ID}.json"
    assert result["manifest"] == str(target)
    deployment = Deployment.load(target)
    assert deployment.chain_id == REMOTE_CHAIN_ID
    assert deployment.deployer == deployer.account.address
    assert deployment.params.epoch_length == 40
    assert deployment.params.min_stake == 500 * WAD
    assert deployment.params.max_traces_per_batch == 256
    assert result["verification"]["ok"] is True
    checks = {(c["contract"], c["what"]) for c in result["verification"]["checks"]}
    assert ("WorldGym", "bytecode") in checks
    assert ("ModelRegistry", "refinery role") in checks
    assert result["gas_used"] > 5_000_000
    assert result["profile"] == {
        "name": "remote",
        "rpc_url": remote.url,
        "chain_id": REMOTE_CHAIN_ID,
    }

    # The saved profile is enough for every other command to find the deployment.
    code, out = run("--network", "remote", "status", "--json")
    assert code == 0, out
    status = json.loads(out)
    assert status["chain_id"] == REMOTE_CHAIN_ID
    assert status["worldgym"] == deployment.addresses.worldgym

    # One round with the Protocol client, each role signing with its own key.
    session = Session(network="remote")
    w3 = session.web3()
    fund_eth(remote_w3, refinery.address, 1)
    miner = Account.create()
    fund_eth(remote_w3, miner.address, 1)
    owner_key = unlock_keyfile(deployer.path, deployer.password_file.read_text().strip())

    def as_(account: LocalAccount) -> Protocol:
        sender = TxSender(w3, account, decoder=protocol_decoder())
        return Protocol(w3, session.deployment(), sender)

    model_id = as_(refinery).register_model(raw_cid(b"base model"), 0, b"", bytes(32))
    store = open_store(StoreSettings(path=home / "store"))
    _, spec_cid = pin_spec(store, load_spec(example_path("arithmetic")))
    env_id = as_(owner_key).register_environment(spec_cid)
    bond = deployment.params.miner_stake
    as_(owner_key).transact(as_(owner_key).token, "transfer", miner.address, bond)
    assert as_(miner).bond_miner() == bond  # miners stake their bond before submitting
    batch_cid = raw_cid(b"a batch of traces")
    submitted = as_(miner).submit_batch(env_id, 1, batch_cid, 8, model_id)

    reader = session.protocol()  # read-only, through the profile and the manifest
    (batch,) = reader.batches(submitted.epoch)
    assert batch == submitted
    assert (batch.miner, batch.env_id, batch.cid, batch.trace_count, batch.model_id) == (
        miner.address, env_id, batch_cid, 8, model_id,
    )  # fmt: skip
    assert reader.environment(env_id).owner == deployer.account.address
    assert reader.balance(deployer.account.address) == (
        deployment.params.genesis_supply - deployment.params.registration_bond - bond
    )

    # A second deployment on the same chain is refused; --verify-only checks the first.
    code, out = _deploy(remote, deployer)
    assert code == 1
    assert "already has a deployment" in out
    assert "--force" in out
    code, out = run("deploy", "--rpc", remote.url, "--verify-only", "--refinery", refinery.address)
    assert code == 0, out
    assert "verified: all" in out
    assert "FAIL" not in out


def test_force_replaces_the_manifest_and_keeps_the_old_one(
    home: Path, remote: AnvilProcess, deployer: KeyFile
) -> None:
    code, out = _deploy(remote, deployer, "--preset", "devnet")
    assert code == 0, out
    assert "verified: all" in out
    assert f"[networks.chain{REMOTE_CHAIN_ID}]" in out  # the profile to add, printed
    assert f'rpc_url = "{remote.url}"' in out
    target = home / "data" / "deployments" / f"{REMOTE_CHAIN_ID}.json"
    first = Deployment.load(target)

    code, out = _deploy(remote, deployer, "--preset", "devnet", "--force")
    assert code == 0, out
    second = Deployment.load(target)
    assert second.addresses.worldgym != first.addresses.worldgym
    kept = target.with_name(f"{REMOTE_CHAIN_ID}.replaced-{first.deploy_block}.json")
    assert Deployment.load(kept) == first
    assert f"kept as {kept}" in out, out


def test_dry_run_prices_the_deployment_and_sends_nothing(
    home: Path, remote: AnvilProcess, remote_w3: Web3, deployer: KeyFile
) -> None:
    code, out = _deploy(remote, deployer, "--dry-run", "--json")
    assert code == 0, out
    plan = json.loads(out)["plan"]
    assert plan["chain_id"] == REMOTE_CHAIN_ID
    assert plan["deployer"] == deployer.account.address
    assert len(plan["steps"]) == 7
    assert plan["cost_bound_wei"] < plan["balance_wei"]
    assert remote_w3.eth.get_transaction_count(deployer.account.address) == 0
    assert not (home / "data" / "deployments").exists()

    code, out = _deploy(remote, deployer, "--dry-run")
    assert code == 0, out
    assert "epoch 1,800 blocks" in out  # the public preset is the default
    assert "dry run: nothing was sent" in out


def test_an_underfunded_deployer_is_stopped_before_sending(
    home: Path, remote: AnvilProcess, remote_w3: Web3, tmp_path: Path
) -> None:
    poor = make_keyfile(tmp_path)
    fund_eth(remote_w3, poor.account.address, 0.0001)
    code, out = _deploy(remote, poor)
    assert code == 1
    assert f"the deployer {poor.account.address} has 0.0001 ETH on chain {REMOTE_CHAIN_ID}" in out
    assert "fund it" in out
    assert remote_w3.eth.get_transaction_count(poor.account.address) == 0


def test_a_wrong_password_is_one_clear_line(
    home: Path, remote: AnvilProcess, deployer: KeyFile, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not it\n")
    code, out = run(
        "deploy", "--rpc", remote.url, "--keystore", str(deployer.path),
        "--password-file", str(wrong), "--yes",
    )  # fmt: skip
    assert code == 1
    assert "wrong password for keystore file" in out
    assert "Traceback" not in out


def test_the_password_can_come_from_the_environment(
    home: Path, remote: AnvilProcess, deployer: KeyFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORLDGYM_PASSWORD", deployer.password_file.read_text().strip())
    code, out = run("deploy", "--rpc", remote.url, "--keystore", str(deployer.path), "--dry-run")
    assert code == 0, out
    assert deployer.account.address in out


def test_a_chain_without_cancun_is_refused(home: Path, tmp_path: Path) -> None:
    with AnvilProcess(chain_id=REMOTE_CHAIN_ID, hardfork="paris") as old:
        key = make_keyfile(tmp_path)
        code, out = _deploy(old, key)
    assert code == 1
    assert "does not run the Cancun EVM" in out


def test_bad_input_fails_before_touching_the_network(home: Path, tmp_path: Path) -> None:
    unreachable = "http://127.0.0.1:9"  # nothing listens on the discard port
    bad = tmp_path / "bad.toml"
    bad.write_text("epoch_lenght = 10\n")
    code, out = run("deploy", "--rpc", unreachable, "--params", str(bad))
    assert code == 1
    assert "did you mean 'epoch_length'?" in out
    code, out = run("deploy", "--rpc", unreachable, "--refinery", "0x1234")
    assert code == 2
    assert "--refinery '0x1234' is not an address" in out
    code, out = run("deploy", "--rpc", "ws://127.0.0.1:8546")
    assert code == 2
    assert "not an http:// or https:// URL" in out


def test_a_custom_manifest_path_goes_into_the_profile_and_a_forged_one_fails(
    home: Path, remote: AnvilProcess, deployer: KeyFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(home)
    code, out = _deploy(
        remote, deployer, "--preset", "devnet", "--manifest", "published/deployment.json",
        "--profile", "remote", "--save-profile",
    )  # fmt: skip
    assert code == 0, out
    published = home / "published" / "deployment.json"
    assert f"profile 'remote' saved to {home / 'config.toml'}" in out
    assert f'manifest = "{published}"' in (home / "config.toml").read_text()
    code, out = run("--network", "remote", "status", "--json")
    assert code == 0, out
    assert json.loads(out)["worldgym"] == Deployment.load(published).addresses.worldgym

    forged = json.loads(published.read_text())
    forged["params"]["slash_bps"] = 0
    forged_path = home / "forged.json"
    forged_path.write_text(json.dumps(forged))
    code, out = run("deploy", "--rpc", remote.url, "--verify-only", "--manifest", str(forged_path))
    assert code == 1
    assert "FAIL WorldGym params" in out
    assert "1 of 30 checks failed" in out


def test_it_asks_for_the_password_and_before_sending(
    home: Path, remote: AnvilProcess, remote_w3: Web3, deployer: KeyFile
) -> None:
    password = deployer.password_file.read_text().strip()
    args = ("deploy", "--rpc", remote.url, "--keystore", str(deployer.path))
    code, out = run(*args, input=f"{password}\nn\n")
    assert code == 1
    assert f"Password for keystore {deployer.path.name}" in out
    assert "send 7 transactions on chain 424242?" in out
    assert password not in out  # the prompt hides it
    assert remote_w3.eth.get_transaction_count(deployer.account.address) == 0
    code, out = run(*args, input=f"{password}\ny\n")
    assert code == 0, out
    assert "verified: all 30 checks passed" in out
