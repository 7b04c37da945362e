"""Helpers of the deployment tests: keystore files and a faucet on the remote anvil."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from worldgym.client.wallet import LIGHT_SCRYPT_N
from worldgym.core.amounts import WAD
from worldgym.deploy.anvil import UnlockedSender

__all__ = ["PASSWORD", "REMOTE_CHAIN_ID", "KeyFile", "fund_eth", "make_keyfile"]

REMOTE_CHAIN_ID = 424_242
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class KeyFile:
    """An encrypted keystore file, the password file that opens it, and its account."""

    path: Path
    password_file: Path
    account: LocalAccount


def fund_eth(w3: Web3, address: str, eth: float) -> None:
    """Send ``eth`` from anvil's dev account 0 (the faucet)."""
    UnlockedSender(w3, w3.eth.accounts[0]).send({"to": address, "value": int(eth * WAD)})


def make_keyfile(directory: Path, account: LocalAccount | None = None) -> KeyFile:
    """Encrypt a (new) key to a v3 keystore file as geth names them; password in a 0600 file."""
    account = account or Account.create()
    document = Account.encrypt(account.key, PASSWORD, kdf="scrypt", iterations=LIGHT_SCRYPT_N)
    path = directory / f"UTC--2026-01-01T00-00-00.000000000Z--{account.address[2:].lower()}"
    path.write_text(json.dumps(document))
    password_file = directory / "password.txt"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    return KeyFile(path, password_file, account)
