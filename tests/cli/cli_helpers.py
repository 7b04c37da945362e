"""Running the real `worldgym` app in-process."""

from __future__ import annotations

from typer.testing import CliRunner

from worldgym.cli.app import app

__all__ = ["run"]

_runner = CliRunner()


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    """Invoke ``worldgym ARGS``; return (exit code, stdout + stderr)."""
    result = _runner.invoke(app, list(args), input=input)
    return result.exit_code, result.output
