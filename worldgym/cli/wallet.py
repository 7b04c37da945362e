"""``worldgym wallet new | import | list | show | verify``: manage encrypted keystore wallets.

The keystore directory is ``--keystore``, else ``keystore_dir`` from the
settings: those of the ``worldgym`` root command (its
:class:`~worldgym.client.session.Session` in ``ctx.obj``), else those read from ``--config``.
Passwords come from ``--password-file``, ``$WORLDGYM_PASSWORD`` or a hidden prompt;
private keys from ``--key-file``, ``--stdin`` or a hidden prompt, never from an
argument (it would land in the shell history).

``show`` prints the address; other packages add rows (balances, stake) with
:func:`register_show_extra`, and act on a new wallet with :func:`register_after_create`
(the devnet funds it, when one runs here).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from worldgym.cli.options import JsonOpt
from worldgym.cli.output import errors, print_json
from worldgym.client.config import Settings, load_settings
from worldgym.client.session import Session
from worldgym.client.wallet import Keystore, WalletInfo, parse_private_key, password_from
from worldgym.core.errors import UsageError, WorldGymError

__all__ = ["AfterCreate", "ShowExtra", "app", "register_after_create", "register_show_extra"]

ShowExtra = Callable[[str, Settings], Mapping[str, str]]
"""Given an address and the settings, extra ``label -> value`` rows for ``wallet show``."""

AfterCreate = Callable[[WalletInfo, Settings], Mapping[str, str]]
"""Given a wallet just created or imported and the settings, do something for it and return
``label -> what was done`` rows (printed after the wallet)."""

_show_extras: list[ShowExtra] = []
_after_create: list[AfterCreate] = []

app = typer.Typer(
    name="wallet",
    help="Create, import and inspect encrypted keystore wallets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def register_after_create(hook: AfterCreate) -> None:
    """Run ``hook`` on every wallet ``wallet new`` or ``wallet import`` makes; its failure is
    one row, never a failed command (the wallet exists by then)."""
    _after_create.append(hook)


def register_show_extra(extra: ShowExtra) -> None:
    """Add rows to ``wallet show`` (e.g. ETH and WGT balances); errors become one row."""
    _show_extras.append(extra)


@dataclass
class _Options:
    config: Path | None
    keystore: Path | None
    parent: Session | None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            if self.config is None and self.parent is not None:
                self._settings = self.parent.settings
            else:
                self._settings = load_settings(self.config)
        return self._settings

    def keystore_dir(self) -> Path:
        return self.keystore or self.settings().keystore_dir


ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="config file (default: $WORLDGYM_CONFIG or the user config)"),
]
KeystoreOpt = Annotated[
    Path | None, typer.Option("--keystore", help="keystore directory (default: from the config)")
]
NameOpt = Annotated[str | None, typer.Option("--name", help="a name to refer to the wallet by")]
PasswordFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help="read the password from this file (else $WORLDGYM_PASSWORD, else ask)",
    ),
]
LightKdfOpt = Annotated[
    bool, typer.Option("--light-kdf", help="cheaper encryption, for throw-away dev wallets only")
]
WalletArg = Annotated[
    str | None, typer.Argument(help="wallet name or address (default: the configured wallet)")
]


@app.callback()
def _main(ctx: typer.Context, config: ConfigOpt = None, keystore: KeystoreOpt = None) -> None:
    ctx.obj = _Options(config, keystore, ctx.find_object(Session))


@app.command("new")
def new(
    ctx: typer.Context,
    *,
    name: NameOpt = None,
    password_file: PasswordFileOpt = None,
    light_kdf: LightKdfOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a wallet with a new random key."""
    with errors():
        keystore = Keystore(_opts(ctx).keystore_dir())
        password = _new_password(password_file)
        info = keystore.create(password, name=name, light_kdf=light_kdf)
        _print_wallet("created", info, as_json, _after(_opts(ctx), info))


@app.command("import")
def import_(
    ctx: typer.Context,
    *,
    name: NameOpt = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="read the hex private key from this file")
    ] = None,
    stdin: Annotated[
        bool, typer.Option("--stdin", help="read the hex private key from stdin")
    ] = False,
    password_file: PasswordFileOpt = None,
    light_kdf: LightKdfOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Import an existing private key (from a file, stdin or a hidden prompt)."""
    with errors():
        if key_file is not None and stdin:
            raise UsageError("pass either --key-file or --stdin, not both")
        keystore = Keystore(_opts(ctx).keystore_dir())
        if key_file is not None:
            try:
                key = key_file.expanduser().read_text()
            except (OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"cannot read key file {key_file}: {exc}") from None
        elif stdin:
            key = sys.stdin.readline()
        else:
            key = typer.prompt("Private key (hex)", hide_input=True)
        private_key = parse_private_key(key)  # reject a typo before asking for a password
        del key
        password = _new_password(password_file)
        info = keystore.import_key(private_key, password, name=name, light_kdf=light_kdf)
        del private_key
        _print_wallet("imported", info, as_json, _after(_opts(ctx), info))


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the wallets in the keystore."""
    with errors():
        keystore = Keystore(_opts(ctx).keystore_dir())
        wallets = keystore.list()
        if as_json:
            print_json([w.as_dict() for w in wallets])
            return
        if not wallets:
            typer.echo(f"no wallets in {keystore.directory}: create one with `worldgym wallet new`")
            return
        width = max(len(w.name or "-") for w in wallets)
        for w in wallets:
            typer.echo(f"{(w.name or '-'):<{width}}  {w.address}  {w.path.name}")


@app.command("show")
def show(ctx: typer.Context, wallet: WalletArg = None, as_json: JsonOpt = False) -> None:
    """Show a wallet's address (and, where registered, its balances)."""
    with errors():
        opts = _opts(ctx)
        info = Keystore(opts.keystore_dir()).find(_wallet(opts, wallet))
        rows: dict[str, str] = {}
        for extra in _show_extras:
            try:
                rows.update(extra(info.address, opts.settings()))
            except WorldGymError as exc:
                rows[getattr(extra, "__name__", "extra")] = f"unavailable ({exc})"
        if as_json:
            print_json({**info.as_dict(), **rows})
            return
        typer.echo(f"address  {info.address}")
        typer.echo(f"name     {info.name or '-'}")
        typer.echo(f"file     {info.path}")
        for label, value in rows.items():
            typer.echo(f"{label:<8} {value}")


@app.command("verify")
def verify(
    ctx: typer.Context,
    wallet: WalletArg = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check that the password opens the wallet."""
    with errors():
        opts = _opts(ctx)
        keystore = Keystore(opts.keystore_dir())
        info = keystore.find(_wallet(opts, wallet))
        password = password_from(password_file)
        if password is None:
            password = typer.prompt(f"Password for {info.name or info.address}", hide_input=True)
        account = keystore.unlock(info.address, password)
        if as_json:
            typer.echo(json.dumps({**info.as_dict(), "opens": True}))
        else:
            typer.echo(f"the password opens {info.name or '-'} {account.address}")


def _opts(ctx: typer.Context) -> _Options:
    opts = ctx.find_object(_Options)
    if opts is None:  # called without the group callback (e.g. mounted elsewhere)
        opts = _Options(None, None, ctx.find_object(Session))
    return opts


def _wallet(opts: _Options, wallet: str | None) -> str:
    if wallet is not None:
        return wallet
    configured = opts.settings().wallet
    if configured is not None:
        return configured
    wallets = Keystore(opts.keystore_dir()).list()
    if len(wallets) == 1:
        return wallets[0].address
    raise UsageError(
        "which wallet? name one (see `worldgym wallet list`), or set wallet in the config file "
        "or WORLDGYM_WALLET"
    )


def _new_password(password_file: Path | None) -> str:
    password = password_from(password_file)
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    return password


def _after(opts: _Options, info: WalletInfo) -> dict[str, str]:
    rows: dict[str, str] = {}
    if opts.keystore is not None:  # a keystore of its own: not the configured network's wallet
        return rows
    for hook in _after_create:
        try:
            rows.update(hook(info, opts.settings()))
        except WorldGymError as exc:
            rows[getattr(hook, "__name__", "after")] = f"not done ({exc})"
    return rows


def _print_wallet(
    verb: str, info: WalletInfo, as_json: bool, rows: Mapping[str, str] | None = None
) -> None:
    if as_json:
        print_json({**info.as_dict(), **(rows or {})})
    else:
        label = f" {info.name}" if info.name else ""
        typer.echo(f"{verb} wallet{label} {info.address} in {info.path}")
        for key, value in (rows or {}).items():
            typer.echo(f"{key}: {value}")
