"""Encrypted keystore wallets: standard v3 files that geth, foundry and eth-account read.

A :class:`Keystore` is one directory (mode 0700) of keystore files (mode
0600) named like geth's, ``UTC--<iso time>--<address>``, plus ``names.json``
mapping optional wallet names to addresses. Keys are encrypted with
``eth_account.Account.encrypt`` (scrypt; ``light_kdf`` lowers its cost for
throw-away dev wallets, like geth's ``--lightkdf``). A private key is never
written or logged in plaintext, and errors never echo one.

Passwords come from a password file, else ``$WORLDGYM_PASSWORD``, else a
prompt (see :func:`password_from`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_hex_address, to_checksum_address

from worldgym.client.config import ENV_PREFIX, Settings
from worldgym.client.errors import WalletError, WalletNotFoundError, WrongPasswordError
from worldgym.core.errors import UsageError
from worldgym.core.files import write_durably
from worldgym.core.inputs import parse_address

__all__ = [
    "LIGHT_SCRYPT_N",
    "PASSWORD_ENV",
    "Keystore",
    "WalletInfo",
    "account_address",
    "open_wallet",
    "parse_private_key",
    "password_from",
    "select_wallet",
    "unlock_keyfile",
]

PASSWORD_ENV = f"{ENV_PREFIX}PASSWORD"
LIGHT_SCRYPT_N = 4096  # geth's --lightkdf strength; the standard is 262144
_NAMES_FILE = "names.json"
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_DIR_MODE = 0o700
_FILE_MODE = 0o600
_MAX_KEYFILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class WalletInfo:
    """A wallet in the keystore: its address, its file and its name (if it has one)."""

    address: str
    path: Path
    name: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready fields."""
        return {"name": self.name, "address": self.address, "path": str(self.path)}


class Keystore:
    """One directory of encrypted keystore files. Creating it does no I/O."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.expanduser()

    # ─── reading ──────────────────────────────────────────────────────────────

    def list(self) -> list[WalletInfo]:
        """Every readable keystore file, oldest first (file names start with the time)."""
        if not self.directory.is_dir():
            return []
        names = {address: name for name, address in self._names().items()}
        wallets = []
        for path in sorted(self.directory.iterdir()):
            address = _keyfile_address(path)
            if address is not None:
                wallets.append(WalletInfo(address, path, names.get(address)))
        return wallets

    def find(self, wallet: str) -> WalletInfo:
        """The wallet named ``wallet``, or whose address it is."""
        address: str
        if wallet.startswith("0x"):
            address = parse_address(wallet, "wallet")
        else:
            named = self._names().get(wallet)
            if named is None:
                raise WalletNotFoundError(
                    f"no wallet named {wallet!r} in {self.directory}: see `worldgym wallet list`, "
                    "or create one with `worldgym wallet new --name NAME`"
                )
            address = named
        for info in self.list():
            if info.address == address:
                return info
        raise WalletNotFoundError(
            f"no keystore file for {address} in {self.directory}: see `worldgym wallet list`"
        )

    def unlock(self, wallet: str, password: str) -> LocalAccount:
        """Decrypt ``wallet`` (name or address) with ``password``."""
        info = self.find(wallet)
        label = f"{info.name} ({info.address})" if info.name else info.address
        return unlock_keyfile(info.path, password, label=f"wallet {label}")

    # ─── writing ──────────────────────────────────────────────────────────────

    def create(
        self, password: str, *, name: str | None = None, light_kdf: bool = False
    ) -> WalletInfo:
        """Make a new random key and store it encrypted."""
        account: LocalAccount = Account.create()
        return self._store(account, password, name, light_kdf)

    def import_key(
        self,
        private_key: str | bytes,
        password: str,
        *,
        name: str | None = None,
        light_kdf: bool = False,
    ) -> WalletInfo:
        """Store an existing key (hex string or 32 bytes) encrypted."""
        account: LocalAccount = Account.from_key(parse_private_key(private_key))
        return self._store(account, password, name, light_kdf)

    def _store(
        self, account: LocalAccount, password: str, name: str | None, light_kdf: bool
    ) -> WalletInfo:
        if not password:
            raise UsageError("the password is empty: choose one (it encrypts the key)")
        names = self._names()
        if name is not None:
            _check_name(name)
            if name in names:
                raise WalletError(f"the name {name!r} is taken by {names[name]}: choose another")
        address = to_checksum_address(account.address)
        existing = [w for w in self.list() if w.address == address]
        if existing:
            raise WalletError(f"{address} is already in the keystore ({existing[0].path})")
        document = Account.encrypt(
            account.key, password, kdf="scrypt", iterations=LIGHT_SCRYPT_N if light_kdf else None
        )
        self._ensure_dir()
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S.%f000Z")
        path = self.directory / f"UTC--{stamp}--{address[2:].lower()}"
        write_durably(path, json.dumps(document).encode(), mode=_FILE_MODE, exclusive=True)
        if name is not None:
            self._write_names({**names, name: address})
        return WalletInfo(address, path, name)

    def _ensure_dir(self) -> None:
        self.directory.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        os.chmod(self.directory, _DIR_MODE)

    def _names(self) -> dict[str, str]:
        path = self.directory / _NAMES_FILE
        try:
            doc: Any = json.loads(path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise WalletError(f"{path} is unreadable ({exc}): fix or remove it") from None
        if not isinstance(doc, Mapping) or not all(
            isinstance(v, str) and is_hex_address(v) for v in doc.values()
        ):
            raise WalletError(f"{path} must map names to addresses: fix or remove it")
        return {str(k): to_checksum_address(v) for k, v in doc.items()}

    def _write_names(self, names: Mapping[str, str]) -> None:
        data = (json.dumps(dict(sorted(names.items())), indent=2) + "\n").encode()
        write_durably(self.directory / _NAMES_FILE, data, mode=_FILE_MODE)


def parse_private_key(private_key: str | bytes) -> bytes:
    """32 key bytes from hex text (``0x`` optional, whitespace ignored) or raw bytes.

    The error never repeats the input.
    """
    if isinstance(private_key, str):
        text = "".join(private_key.split()).removeprefix("0x")
        if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
            raise UsageError("that is not a private key: expected 64 hex characters")
        key = bytes.fromhex(text)
    else:
        key = bytes(private_key)
    if len(key) != 32:
        raise UsageError("that is not a private key: expected 32 bytes")
    try:
        Account.from_key(key)
    except ValueError:
        raise UsageError("that is not a valid secp256k1 private key") from None
    return key


def password_from(password_file: Path | None, env: Mapping[str, str] | None = None) -> str | None:
    """The password from ``password_file`` (first line), else ``$WORLDGYM_PASSWORD``, else None."""
    if password_file is not None:
        try:
            text = password_file.expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read password file {password_file}: {exc}") from None
        return text.splitlines()[0] if text else ""
    value = (os.environ if env is None else env).get(PASSWORD_ENV)
    return value


def unlock_keyfile(path: Path, password: str, *, label: str | None = None) -> LocalAccount:
    """Decrypt one v3 keystore file (any tool's: geth, foundry, eth-account) with ``password``.

    ``label`` names the key in a wrong-password error (default: the file).
    """
    try:
        if path.stat().st_size > _MAX_KEYFILE_BYTES:
            raise WalletError(f"{path} is too large to be a keystore file")
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WalletError(f"keystore file {path} is unreadable: {exc}") from None
    try:
        key = Account.decrypt(document, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPasswordError(
                f"wrong password for {label or f'keystore file {path}'}: check the password "
                f"file or {PASSWORD_ENV}"
            ) from None
        raise WalletError(f"keystore file {path} cannot be decrypted: {exc}") from None
    except (KeyError, TypeError, AttributeError, NotImplementedError) as exc:
        raise WalletError(f"keystore file {path} is not a v3 keystore: {exc}") from None
    account: LocalAccount = Account.from_key(key)
    return account


def select_wallet(settings: Settings, wallet: str | None = None) -> WalletInfo:
    """The wallet a command means: ``wallet``, else the configured one, else the only one."""
    keystore = Keystore(settings.keystore_dir)
    if wallet is None:
        wallet = settings.wallet
    if wallet is None:
        wallets = keystore.list()
        if len(wallets) != 1:
            found = "none" if not wallets else f"{len(wallets)}"
            raise UsageError(
                f"which wallet? the keystore {keystore.directory} has {found}: pass --wallet, "
                f"or set wallet in the config file or {ENV_PREFIX}WALLET"
            )
        wallet = wallets[0].address
    return keystore.find(wallet)


def account_address(settings: Settings, who: str, what: str = "account") -> str:
    """``who`` as an address: a 0x address (checksum checked) or a wallet name in the keystore."""
    if who.startswith("0x"):
        return str(parse_address(who, what))
    if not _NAME_RE.fullmatch(who):
        raise UsageError(f"{what} {who!r} is neither an address (0x...) nor a wallet name")
    return Keystore(settings.keystore_dir).find(who).address


def open_wallet(
    settings: Settings,
    wallet: str | None = None,
    *,
    password_file: Path | None = None,
    prompt: Callable[[str], str] | None = None,
) -> LocalAccount:
    """Unlock the wallet to send with, for commands that sign.

    ``wallet`` (a name or address) defaults to ``settings.wallet``, then to the
    keystore's only wallet. The password comes from :func:`password_from`, else
    from ``prompt`` (called with a question), else it is an error.
    """
    keystore = Keystore(settings.keystore_dir)
    info = select_wallet(settings, wallet)
    password = password_from(password_file)
    if password is None:
        if prompt is None:
            raise UsageError(
                f"no password for wallet {info.name or info.address}: pass --password-file "
                f"or set {PASSWORD_ENV}"
            )
        password = prompt(f"Password for {info.name or info.address}")
    return keystore.unlock(info.address, password)


def _check_name(name: str) -> None:
    if not _NAME_RE.fullmatch(name) or is_hex_address(name) or name.startswith("0x"):
        raise UsageError(
            f"wallet name {name!r} must be 1-64 letters, digits, '_', '.' or '-' "
            "(not starting with 0x)"
        )


def _keyfile_address(path: Path) -> str | None:
    """The address of a v3 keystore file, or None for anything else in the directory."""
    if path.name.startswith(".") or path.name == _NAMES_FILE or not path.is_file():
        return None
    try:
        doc: Any = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, Mapping) or ("crypto" not in doc and "Crypto" not in doc):
        return None
    address = doc.get("address")
    if not isinstance(address, str) or not is_hex_address(address):
        return None
    return str(to_checksum_address(address))
