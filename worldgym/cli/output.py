"""The command line's one voice: how errors are printed, what exit codes mean, JSON output.

Exit codes (every ``worldgym`` command; the README's "Exit codes")::

    0   done
    1   failed: the chain, the store, a check or a peer said no, or an outage outlasted
        --retry-s; the message says what happened
    2   bad usage: an argument or a setting cannot work (a UsageError or ConfigError,
        or click's own usage errors); the message says what to change

An error is one line on stderr, ``error: <message>``, never a traceback. ``--json``
output is one JSON document on stdout, so a script can pipe it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import typer
from rich.console import Console
from rich.text import Text

from worldgym.core.errors import ConfigError, UsageError, WorldGymError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_OK",
    "done",
    "errors",
    "exit_code",
    "fail",
    "print_error",
    "print_json",
]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 2

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def exit_code(exc: BaseException) -> int:
    """2 when ``exc`` says the command line or the settings are wrong, else 1."""
    return EXIT_BAD_INPUT if isinstance(exc, UsageError | ConfigError) else EXIT_FAILED


def print_error(message: object) -> None:
    """``error: <message>`` on stderr; brackets in the message are text, not markup."""
    _err.print(Text.assemble(("error: ", "bold red"), str(message)))


def fail(message: object, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``message`` as an error; return the :class:`typer.Exit` to raise."""
    print_error(message)
    return typer.Exit(code)


@contextmanager
def errors(*also: type[Exception]) -> Iterator[None]:
    """WorldGym errors (and ``also``, e.g. OSError, as failures) inside the block become
    one line and their exit code.

    The root command does this for every sub-command; a sub-app used on its own
    (``python -m``, tests, embedding) gets the same behaviour from this block.
    """
    try:
        yield
    except WorldGymError as exc:
        raise fail(exc, exit_code(exc)) from None
    except also as exc:
        raise fail(exc, EXIT_FAILED) from None


def done(as_json: bool, document: Any, line: str) -> None:
    """What a command did: ``document`` as JSON with ``--json``, else ``line`` for people."""
    if as_json:
        print_json(document)
    else:
        typer.echo(line)


def print_json(document: Any) -> None:
    """``document`` as indented JSON on stdout (amounts and other big ints stay exact)."""
    typer.echo(json.dumps(document, indent=2, default=str))
