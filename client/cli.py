"""The ``worldgym`` command line: one Typer app, one sub-app per actor group."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from client.errors import WorldGymError

__all__ = ["app", "main"]

app = typer.Typer(
    name="worldgym",
    help="WorldGym: an open RL gym for language models, run as a protocol on an EVM chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

_err = Console(stderr=True)


def main() -> None:
    """Console-script entry point: run the app, turning WorldGym errors into one line."""
    try:
        app(standalone_mode=False)
    except WorldGymError as exc:
        _err.print(f"[bold red]error:[/] {exc}")
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        _err.print("aborted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is None:
            raise
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        sys.exit(code)
