"""``worldgym storage cid | put | get | pin | stat | check``: content-addressed storage.

The store is the embedded one under ``--store`` (``$WORLDGYM_STORAGE__PATH``,
default ``<data dir>/store``), or a Kubo daemon with ``--backend kubo``
(``$WORLDGYM_STORAGE__BACKEND``) at ``--kubo-api`` (``$WORLDGYM_STORAGE__KUBO_API``).
``cid`` only computes (it needs no store). ``FILE`` may be ``-`` for stdin.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from worldgym.cli.options import JsonOpt
from worldgym.cli.output import errors
from worldgym.core.errors import UsageError
from worldgym.core.files import durable_path
from worldgym.storage.local import LocalStore
from worldgym.storage.settings import ENV_PREFIX, StoreSettings, open_store, settings_from_env
from worldgym.storage.store import ContentStore
from worldgym.storage.unixfs import ImportOptions, import_content

__all__ = ["app"]

app = typer.Typer(
    name="storage",
    help="Content-addressed storage: Kubo-identical CIDs, embedded store or a Kubo daemon.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

_STDIN = "-"

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", envvar=f"{ENV_PREFIX}PATH", help="the local store's directory"),
]
BackendOpt = Annotated[
    str | None,
    typer.Option("--backend", envvar=f"{ENV_PREFIX}BACKEND", help="'local' or 'kubo'"),
]
KuboOpt = Annotated[
    str | None,
    typer.Option("--kubo-api", envvar=f"{ENV_PREFIX}KUBO_API", help="Kubo RPC URL (port 5001)"),
]
CidVersionOpt = Annotated[
    int, typer.Option("--cid-version", min=0, max=1, help="0 (ipfs add's default) or 1")
]
RawLeavesOpt = Annotated[
    bool | None,
    typer.Option(
        "--raw-leaves/--no-raw-leaves",
        help="leaf format (default: raw for CIDv1, wrapped for CIDv0, like ipfs add)",
        show_default=False,
    ),
]


def _echo(cid: str, as_json: bool, **extra: object) -> None:
    """A CID alone on its line (for shell pipes), or with what was done as JSON."""
    typer.echo(json.dumps({"cid": cid, **extra}) if as_json else cid)


def _settings(
    ctx: typer.Context, store: Path | None, backend: str | None, kubo_api: str | None
) -> StoreSettings:
    parent = getattr(ctx.obj, "storage", None)
    base = parent if isinstance(parent, StoreSettings) else settings_from_env()
    updates: dict[str, Any] = {}
    if store is not None:
        updates["path"] = store
    if backend is not None:
        updates["backend"] = backend
    if kubo_api is not None:
        updates["kubo_api"] = kubo_api
    try:
        return StoreSettings.model_validate(base.model_dump() | updates)
    except ValueError as exc:
        raise UsageError(f"invalid storage settings: {exc}") from None


@contextlib.contextmanager
def _open(
    ctx: typer.Context, store: Path | None, backend: str | None, kubo_api: str | None
) -> Iterator[ContentStore]:
    with open_store(_settings(ctx, store, backend, kubo_api)) as opened:
        yield opened


def _source(file: str) -> Path | BinaryIO:
    if file == _STDIN:
        return sys.stdin.buffer
    path = Path(file)
    if not path.is_file():
        raise UsageError(f"{file} is not a readable file")
    return path


@app.command()
def cid(
    file: Annotated[str, typer.Argument(help="the file ('-' for stdin)")],
    *,
    cid_version: CidVersionOpt = 1,
    raw_leaves: RawLeavesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the CID `put` (and `ipfs add` with the same options) gives FILE; stores nothing."""
    with errors(OSError):
        options = ImportOptions(cid_version=cid_version, raw_leaves=raw_leaves)
        _echo(str(import_content(_source(file), options).cid), as_json)


@app.command()
def put(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="the file ('-' for stdin)")],
    *,
    cid_version: CidVersionOpt = 1,
    raw_leaves: RawLeavesOpt = None,
    pin: Annotated[bool, typer.Option("--pin", help="also pin it")] = False,
    store: StoreOpt = None,
    backend: BackendOpt = None,
    kubo_api: KuboOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Store FILE and print its CID (CIDv1 with raw leaves unless told otherwise)."""
    with errors(OSError), _open(ctx, store, backend, kubo_api) as opened:
        source = _source(file)
        kwargs: dict[str, Any] = {"cid_version": cid_version, "raw_leaves": raw_leaves, "pin": pin}
        if isinstance(source, Path):
            _echo(opened.put_file(source, **kwargs), as_json, pinned=pin)
        else:
            _echo(opened.put_stream(source, **kwargs), as_json, pinned=pin)


@app.command()
def get(
    ctx: typer.Context,
    cid: Annotated[str, typer.Argument(help="the CID to read")],
    *,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here (default: stdout)")
    ] = None,
    max_bytes: Annotated[
        int | None, typer.Option("--max-bytes", min=0, help="refuse content larger than this")
    ] = None,
    store: StoreOpt = None,
    backend: BackendOpt = None,
    kubo_api: KuboOpt = None,
) -> None:
    """Write the content of CID (verified block by block) to stdout or --output."""
    with errors(OSError), _open(ctx, store, backend, kubo_api) as opened:
        chunks = opened.stream(cid, max_bytes=max_bytes)
        if output is None:
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        # Written beside the target and renamed: a failed read leaves no partial file.
        with durable_path(output) as tmp, tmp.open("wb") as fileobj:
            for chunk in chunks:
                fileobj.write(chunk)


@app.command("pin")
def pin_command(
    ctx: typer.Context,
    cid: Annotated[str, typer.Argument(help="the CID to pin with everything under it")],
    *,
    store: StoreOpt = None,
    backend: BackendOpt = None,
    kubo_api: KuboOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pin CID (every block must be present and verify)."""
    with errors(OSError), _open(ctx, store, backend, kubo_api) as opened:
        opened.pin(cid)
        typer.echo(json.dumps({"cid": cid, "pinned": True}) if as_json else f"pinned {cid}")


@app.command()
def stat(
    ctx: typer.Context,
    cid: Annotated[str, typer.Argument(help="the CID to describe")],
    *,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
    backend: BackendOpt = None,
    kubo_api: KuboOpt = None,
) -> None:
    """Print the size, codec, links and pin state of CID."""
    with errors(OSError), _open(ctx, store, backend, kubo_api) as opened:
        info = opened.stat(cid)
        if as_json:
            typer.echo(json.dumps(info.as_dict()))
            return
        for key, value in info.as_dict().items():
            typer.echo(f"{key:<11} {value}")


@app.command()
def check(
    ctx: typer.Context,
    *,
    repair: Annotated[
        bool, typer.Option("--repair", help="delete corrupt blocks and stale temp files")
    ] = False,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """Verify every block of the local store against its CID (exit 1 if any is bad)."""
    with errors(OSError):
        settings = _settings(ctx, store, "local", None)
        report = LocalStore(settings.resolved_path, fsync=settings.fsync).check(repair=repair)
        if as_json:
            typer.echo(json.dumps(vars(report)))
        else:
            typer.echo(
                f"{report.blocks_ok} blocks ok, {len(report.corrupt)} corrupt, "
                f"{len(report.misnamed)} misnamed, {len(report.temp_files)} temp files"
            )
            for path in report.corrupt + report.misnamed:
                typer.echo(f"bad: {path}")
        if not report.valid and not repair:
            raise typer.Exit(1)
