"""No traceback for any input: every command checks what it was given before a transaction."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import run as _run
from web3 import Web3

from worldgym.deploy.devchain import DevChain
from worldgym.deploy.devnet import load_devnet_deployment

GOOD = "0x000000000000000000000000000000000000dEaD"
BAD_CHECKSUM = "0x000000000000000000000000000000000000DEaD"


@pytest.fixture
def alice(home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A running devnet and a funded, bonded wallet `alice`; returns her address."""
    monkeypatch.setenv("WORLDGYM_PASSWORD", "pw")
    assert _run("devnet", "up", "--block-time", "0")[0] == 0
    code, out = _run("wallet", "new", "--name", "alice", "--light-kdf", "--json")
    assert code == 0, out
    return str(json.loads(out)["address"])


def _fails_cleanly(*args: str, says: str) -> str:
    code, out = _run(*args)
    assert code != 0, out
    assert "Traceback" not in out
    assert says in out, out
    return str(out)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("status", "--address", "0x123"), "is not an address"),
        (("status", "--address", "hello"), "is not an address"),
        (("status", "--address", BAD_CHECKSUM), "wrong EIP-55 checksum"),
        (("devnet", "fund", "0x12"), "is not an address"),
        (("devnet", "fund", BAD_CHECKSUM), "wrong EIP-55 checksum"),
        (("stake", "NaN"), "is not an amount of WGT"),
        (("stake", "inf"), "is not an amount of WGT"),
        (("stake", "-5"), "must be more than zero"),
        (("stake", "0"), "must be more than zero"),
        (("stake", "1e80"), "larger than any token amount"),
        (("stake", "0.0000000000000000001"), "more than 18 decimals"),
        (("unstake", "-1"), "must be more than zero"),
        (("verify-batch", "x.json", "--env", "1", "--epoch", "0", "--miner", "0x12"), "--miner"),
        (("mine", "--env", "1", "--model", "/nonexistent"), "does not exist"),
        (("ledger", "address", "0xhello", "--no-sync"), "is not an address"),
        (("ledger", "address", "hello", "--no-sync"), "no wallet named 'hello'"),
        (("stake", "1", "--wallet", BAD_CHECKSUM), "wrong EIP-55 checksum"),
    ],
)
def test_bad_input_is_one_line_before_any_transaction(
    alice: str, args: tuple[str, ...], says: str
) -> None:
    nonce = _nonce(alice)
    _fails_cleanly(*args, says=says)
    assert _nonce(alice) == nonce, "nothing may be sent for bad input"


def test_a_checksummed_lowercase_or_uppercase_address_is_accepted(alice: str) -> None:
    for form in (GOOD, GOOD.lower(), "0x" + GOOD[2:].upper()):
        code, out = _run("status", "--address", form, "--json")
        assert code == 0, out
        assert json.loads(out)["account"]["address"] == GOOD


def test_staking_more_than_the_balance_sends_nothing_and_leaves_no_approval(alice: str) -> None:
    nonce = _nonce(alice)
    _fails_cleanly("stake", "1e30", says="cannot pay")
    assert _nonce(alice) == nonce
    chain = _chain()
    assert chain.token.functions.allowance(alice, chain.staking.address).call() == 0


def test_a_stake_that_fails_after_its_approval_withdraws_the_approval(
    alice: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract refuses the stake after the approval was mined: the approval is undone."""
    from worldgym.chain.contracts import Protocol

    real = Protocol.transact

    def refuse_stake(self: Protocol, contract: object, fn: str, *args: object) -> object:
        if fn == "stake":
            return real(self, self.staking, "stake", 0)  # StakingZeroAmount: reverts
        return real(self, contract, fn, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Protocol, "transact", refuse_stake)
    out = _fails_cleanly("stake", "10", says="the amount must be more than zero")
    assert "Traceback" not in out
    chain = _chain()
    assert chain.token.functions.allowance(alice, chain.staking.address).call() == 0
    assert chain.stake_of(alice) == 100 * 10**18  # only the devnet's miner bond


def test_stake_unstake_claim_report_json(alice: str) -> None:
    code, out = _run("stake", "12.5", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["staked"] == 12_500_000_000_000_000_000
    assert report["total_stake"] == 112_500_000_000_000_000_000
    _fails_cleanly("unstake", "1000", says="cannot unbond")
    code, out = _run("unstake", "2.5", "--json")
    assert code == 0, out
    assert json.loads(out)["unbonding"] == 2_500_000_000_000_000_000
    code, out = _run("claim", "--json")
    assert code == 0, out
    assert json.loads(out)["claimed"] == 0
    _fails_cleanly("withdraw", says="is released at epoch")


def _chain() -> DevChain:
    from worldgym.client.config import load_settings

    settings = load_settings()
    url = settings.profile("devnet").rpc_url
    w3 = Web3(Web3.HTTPProvider(url))
    return DevChain(w3, load_devnet_deployment(settings.data_dir), list(w3.eth.accounts))


def _nonce(address: str) -> int:
    return int(_chain().w3.eth.get_transaction_count(Web3.to_checksum_address(address)))


def test_two_processes_on_one_key_the_second_is_refused(alice: str, home: Path) -> None:
    """A running `worldgym validate` holds alice's key: a second validator, or a claim from
    another shell, is refused naming it (two validators on one key both claimed)."""
    assert _run("stake", "1000")[0] == 0
    log = home / "validate.log"
    env = {**os.environ, "WORLDGYM_CONFIG": str(home / "config.toml"), "WORLDGYM_PASSWORD": "pw"}
    with open(log, "wb") as sink:
        first = subprocess.Popen(
            [sys.executable, "-m", "worldgym.cli.app", "validate"],
            env=env,
            stdout=sink,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 60
        while "validating as" not in log.read_text():
            assert first.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        # The running validator sends transactions of its own (it pokes each epoch's seed);
        # paused, it keeps the key's lock and sends nothing, so the nonce counts only what the
        # refused commands would have sent.
        first.send_signal(signal.SIGSTOP)
        time.sleep(0.5)  # anvil mines on arrival: what was in flight has landed
        nonce = _nonce(alice)
        for args in (("validate", "--once"), ("claim",)):
            out = _fails_cleanly(*args, says=f"{alice} is already in use")
            assert f"pid {first.pid}" in out
            assert "validate" in out
        assert _nonce(alice) == nonce
    finally:
        first.send_signal(signal.SIGCONT)
        first.send_signal(signal.SIGINT)
        first.wait(timeout=30)
    code, out = _run("claim", "--json")  # the key is free again
    assert code == 0, out
