"""One voice: every command's errors, exit codes, ``--json`` and option names are the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner

from worldgym.chain.errors import RevertError, RpcUnavailableError
from worldgym.cli.app import app
from worldgym.cli.output import EXIT_BAD_INPUT, EXIT_FAILED, errors, exit_code
from worldgym.client.errors import WalletNotFoundError, WrongPasswordError
from worldgym.core.errors import ConfigError, UsageError, WorldGymError
from worldgym.gym.errors import GenerationError, SpecError
from worldgym.storage.errors import CidError, ContentNotFoundError

ROOT = Path(__file__).resolve().parents[2]

# Commands that report nothing a script would parse: they run a server or a demo, write a
# file, or print bytes or a schema that is already JSON.
NO_JSON = {
    "demo", "dashboard", "env init", "env schema", "env examples", "storage get",
}  # fmt: skip


def _commands(command: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, sub in getattr(command, "commands", {}).items():
        found |= _commands(sub, (*path, name))
    if not getattr(command, "commands", None):
        found[" ".join(path)] = command
    return found


COMMANDS = _commands(typer.main.get_command(app))


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("x"), EXIT_BAD_INPUT),
        (ConfigError("x"), EXIT_BAD_INPUT),
        (SpecError("x"), EXIT_FAILED),  # what a file says is the answer, not the usage
        (CidError("x"), EXIT_FAILED),
        (WrongPasswordError("x"), EXIT_FAILED),
        (WorldGymError("x"), EXIT_FAILED),
        (RevertError("x"), EXIT_FAILED),
        (RpcUnavailableError("x"), EXIT_FAILED),
        (ContentNotFoundError("x", cid="bafkrei"), EXIT_FAILED),
        (WalletNotFoundError("x"), EXIT_FAILED),
        (GenerationError("x"), EXIT_FAILED),
    ],
)
def test_bad_input_is_2_and_a_failure_is_1(error: WorldGymError, code: int) -> None:
    assert exit_code(error) == code


def test_an_error_is_one_plain_line_with_its_code() -> None:
    sub = typer.Typer()

    @sub.command()
    def boom(kind: str) -> None:
        with errors(OSError):
            if kind == "usage":
                raise UsageError("[networks.x] is not set")  # brackets are text, not markup
            raise OSError(28, "No space left on device")

    runner = CliRunner()
    usage = runner.invoke(sub, ["usage"])
    assert (usage.exit_code, usage.output) == (2, "error: [networks.x] is not set\n")
    disk = runner.invoke(sub, ["disk"])
    assert disk.exit_code == 1
    assert disk.output == "error: [Errno 28] No space left on device\n"


def test_the_root_command_speaks_the_same_way(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    result = CliRunner().invoke(app, ["--config", str(config), "--network", "nowhere", "status"])
    assert result.exit_code == EXIT_BAD_INPUT  # an unknown profile is a setting to fix
    assert result.output.startswith("error: ")
    assert result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_every_reporting_command_takes_json_and_the_shared_options_agree() -> None:
    assert set(COMMANDS) >= NO_JSON, sorted(NO_JSON - set(COMMANDS))
    spelled: dict[str, set[tuple[str, ...]]] = {}
    for name, command in COMMANDS.items():
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        assert ("--json" in options) == (name not in NO_JSON), name
        assert "--env-id" not in options, name  # an environment is --env everywhere
        for param in command.params:
            if isinstance(param, TyperOption) and param.name in {
                "wallet",
                "password_file",
                "as_json",
            }:
                spelled.setdefault(param.name, set()).add(tuple(param.opts))
    assert spelled == {
        "wallet": {("--wallet", "-w")},
        "password_file": {("--password-file",)},
        "as_json": {("--json",)},
    }


def test_claim_and_the_stake_commands_are_every_roles() -> None:
    for name in ("claim", "stake", "unstake", "withdraw", "status", "mine", "batches", "demo"):
        assert name in COMMANDS  # top level, not under one actor


def test_python_dash_m_worldgym_is_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "worldgym", "--help"], cwd=ROOT, capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "demo" in done.stdout
    assert "batches" in done.stdout


def test_json_output_is_one_document(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["storage", "cid", "--json", "-"], input="hello\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["cid"].startswith("bafkrei")
