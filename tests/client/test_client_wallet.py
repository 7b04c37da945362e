"""`worldgym wallet ...` through CliRunner, and the keystore underneath."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from client_helpers import (  # noqa: F401 (pytest fixtures, registered by import)
    DEV_ADDRESSES,
    DEV_KEYS,
    isolated_env_fixture,
)
from eth_account import Account
from typer.testing import CliRunner, Result

from worldgym.cli import wallet as wallet_cli
from worldgym.cli.app import app as root_app
from worldgym.cli.wallet import app
from worldgym.client.config import Settings
from worldgym.client.errors import WalletNotFoundError, WrongPasswordError
from worldgym.client.wallet import Keystore, open_wallet, parse_private_key, password_from
from worldgym.core.errors import UsageError

KEY_HEX = DEV_KEYS[1].removeprefix("0x")
ADDRESS = DEV_ADDRESSES[1]
runner = CliRunner()


def invoke(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


@pytest.fixture
def keystore_dir(isolated_env: Path) -> Path:
    return isolated_env / "data" / "keystore"


@pytest.fixture
def password_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WORLDGYM_PASSWORD", "correct horse")
    return "correct horse"


def _keyfiles(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.startswith("UTC--"))


def _assert_no_plaintext_key(directory: Path, *outputs: str) -> None:
    for path in directory.iterdir():
        assert KEY_HEX.lower() not in path.read_text().lower(), path
    for output in outputs:
        assert KEY_HEX.lower() not in output.lower()


def test_new_writes_a_standard_v3_keystore(keystore_dir: Path, password_env: str) -> None:
    result = invoke("new", "--name", "alice", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["name"] == "alice"
    (path,) = _keyfiles(keystore_dir)
    assert str(path) == info["path"]
    assert path.name.endswith("--" + info["address"][2:].lower())
    document = json.loads(path.read_text())
    assert document["version"] == 3
    assert document["crypto"]["kdf"] == "scrypt"
    assert document["crypto"]["kdfparams"]["n"] == 262144  # the standard strength by default
    key = Account.decrypt(document, password_env)  # any v3 reader opens it
    assert Account.from_key(key).address == info["address"]
    assert stat.S_IMODE(keystore_dir.stat().st_mode) == 0o700
    for file in keystore_dir.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert key.hex() not in result.output


def test_new_prompts_for_the_password_twice(keystore_dir: Path) -> None:
    result = invoke("new", "--light-kdf", input="pw1\npw1\n")
    assert result.exit_code == 0, result.output
    (path,) = _keyfiles(keystore_dir)
    Account.decrypt(json.loads(path.read_text()), "pw1")


def test_empty_password_is_refused(keystore_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = invoke("new", "--password-file", str(empty))
    assert result.exit_code == 2
    assert "password is empty" in result.output
    assert not keystore_dir.exists() or not _keyfiles(keystore_dir)


@pytest.mark.parametrize("source", ["stdin", "file", "prompt"])
def test_import_reads_the_key_without_exposing_it(
    source: str, keystore_dir: Path, password_env: str, tmp_path: Path
) -> None:
    if source == "stdin":
        result = invoke("import", "--stdin", "--light-kdf", input=f"0x{KEY_HEX}\n")
    elif source == "file":
        key_file = tmp_path / "key.txt"
        key_file.write_text(f"  {KEY_HEX}\n")
        result = invoke("import", "--key-file", str(key_file), "--light-kdf")
    else:
        result = invoke("import", "--light-kdf", "--name", "bob", input=f"{KEY_HEX}\n")
    assert result.exit_code == 0, result.output
    assert ADDRESS in result.output
    (path,) = _keyfiles(keystore_dir)
    assert Account.from_key(Account.decrypt(path.read_text(), password_env)).address == ADDRESS
    _assert_no_plaintext_key(keystore_dir, result.output)


def test_import_rejects_a_bad_key_without_echoing_it(keystore_dir: Path, password_env: str) -> None:
    secret = "ab" * 31 + "zz"
    result = invoke("import", "--stdin", input=secret + "\n")
    assert result.exit_code == 2
    assert "not a private key" in result.output
    assert secret not in result.output
    assert "Traceback" not in result.output


def test_import_twice_is_refused(keystore_dir: Path, password_env: str) -> None:
    assert invoke("import", "--stdin", "--light-kdf", input=KEY_HEX).exit_code == 0
    result = invoke("import", "--stdin", "--light-kdf", input=KEY_HEX)
    assert result.exit_code == 1
    assert "already in the keystore" in result.output


def test_list_and_show(keystore_dir: Path, password_env: str) -> None:
    assert invoke("list").output.startswith("no wallets")
    invoke("import", "--stdin", "--light-kdf", "--name", "bob", input=KEY_HEX)
    created = json.loads(invoke("new", "--light-kdf", "--json").output)

    listed = json.loads(invoke("list", "--json").output)
    assert {w["address"] for w in listed} == {ADDRESS, created["address"]}
    text = invoke("list").output
    assert "bob" in text
    assert ADDRESS in text
    assert created["address"] in text

    by_name = invoke("show", "bob")
    assert by_name.exit_code == 0
    assert f"address  {ADDRESS}" in by_name.output
    by_address = json.loads(invoke("show", ADDRESS.lower(), "--json").output)
    assert by_address["name"] == "bob"

    # two wallets and no default: the user must say which
    ambiguous = invoke("show")
    assert ambiguous.exit_code == 2
    assert "which wallet?" in ambiguous.output


def test_show_uses_the_configured_wallet(
    keystore_dir: Path, password_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("import", "--stdin", "--light-kdf", "--name", "bob", input=KEY_HEX)
    invoke("new", "--light-kdf")
    monkeypatch.setenv("WORLDGYM_WALLET", "bob")
    result = invoke("show")
    assert result.exit_code == 0
    assert ADDRESS in result.output


def test_show_unknown_wallet_is_one_line(keystore_dir: Path) -> None:
    result = invoke("show", "nobody")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "no wallet named 'nobody'" in result.output


def test_verify_rejects_a_wrong_password(
    keystore_dir: Path, password_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("import", "--stdin", "--light-kdf", "--name", "bob", input=KEY_HEX)
    assert invoke("verify", "bob").exit_code == 0
    monkeypatch.setenv("WORLDGYM_PASSWORD", "wrong")
    result = invoke("verify", "bob")
    assert result.exit_code == 1
    assert "wrong password for wallet bob" in result.output
    assert "Traceback" not in result.output


def test_password_file_beats_env_and_prompt_is_last(
    keystore_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text("from-file\n")
    monkeypatch.setenv("WORLDGYM_PASSWORD", "from-env")
    result = invoke(
        "import", "--stdin", "--light-kdf", "--password-file", str(password_file), input=KEY_HEX
    )
    assert result.exit_code == 0, result.output
    (path,) = _keyfiles(keystore_dir)
    Account.decrypt(path.read_text(), "from-file")
    assert invoke("verify", "--password-file", str(password_file)).exit_code == 0
    assert invoke("verify").exit_code == 1  # env has the other password
    monkeypatch.delenv("WORLDGYM_PASSWORD")
    assert invoke("verify", input="from-file\n").exit_code == 0


def test_keystore_option_and_parent_settings(tmp_path: Path, password_env: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    assert invoke("--keystore", str(elsewhere), "new", "--light-kdf").exit_code == 0
    assert len(_keyfiles(elsewhere)) == 1

    # Under the `worldgym` root command, the wallet app uses the root's --config.
    config = tmp_path / "config.toml"
    config.write_text(f'keystore_dir = "{elsewhere}"\n')
    listed = runner.invoke(root_app, ["--config", str(config), "wallet", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.output)) == 1


@pytest.fixture
def show_extra() -> Iterator[None]:
    def balances(address: str, settings: Settings) -> dict[str, str]:
        return {"ETH": f"1.5 ({address[:6]})"}

    def broken(address: str, settings: Settings) -> dict[str, str]:
        raise UsageError("no chain")

    wallet_cli.register_show_extra(balances)
    wallet_cli.register_show_extra(broken)
    yield
    wallet_cli._show_extras.clear()


def test_show_hook_adds_rows(keystore_dir: Path, password_env: str, show_extra: None) -> None:
    invoke("import", "--stdin", "--light-kdf", input=KEY_HEX)
    result = invoke("show")
    assert result.exit_code == 0, result.output
    assert f"ETH      1.5 ({ADDRESS[:6]})" in result.output
    assert "unavailable (no chain)" in result.output


# ─── the library underneath ─────────────────────────────────────────────────


def test_open_wallet_returns_a_local_account(keystore_dir: Path, tmp_path: Path) -> None:
    keystore = Keystore(keystore_dir)
    keystore.import_key(DEV_KEYS[1], "pw", name="bob", light_kdf=True)
    settings = Settings(wallet="bob")
    account = open_wallet(settings, prompt=lambda question: "pw")
    assert account.address == ADDRESS
    with pytest.raises(WrongPasswordError):
        open_wallet(settings, prompt=lambda question: "nope")
    with pytest.raises(WalletNotFoundError):
        open_wallet(settings, "carol", prompt=lambda question: "pw")
    with pytest.raises(UsageError, match="WORLDGYM_PASSWORD"):
        open_wallet(settings)  # no password source at all


def test_parse_private_key_and_password_sources(tmp_path: Path) -> None:
    assert parse_private_key(f" 0x{KEY_HEX}\n") == bytes.fromhex(KEY_HEX)
    with pytest.raises(UsageError, match="secp256k1"):
        parse_private_key("00" * 32)
    with pytest.raises(UsageError, match="32 bytes"):
        parse_private_key(b"\x01" * 31)
    path = tmp_path / "pw"
    path.write_text("line one\r\nline two\n")
    assert password_from(path) == "line one"
    assert password_from(None, {"WORLDGYM_PASSWORD": "x"}) == "x"
    assert password_from(None, {}) is None
    with pytest.raises(UsageError, match="cannot read password file"):
        password_from(tmp_path / "missing")
