"""The README's devnet quick start, run line by line as written, ends with a reward.

The lines are parsed from README.md's code block (the one after "On a devnet"),
so a renamed command or option, a missing step or a step that fails is a
failing test: the README and the CLI cannot drift apart. They run in a fresh
data dir and a fresh working directory (with the repository's ``gym/`` in it,
as in a clone), the password from ``$WORLDGYM_PASSWORD`` as the README says.
"""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from worldgym.cli.app import app
from worldgym.client.session import Session
from worldgym.deploy.devnet import devnet_down

pytestmark = [pytest.mark.ml, pytest.mark.slow]

_REPO = Path(__file__).resolve().parents[2]
_MARKER = "On a devnet"


def readme_quickstart(readme: Path = _REPO / "README.md") -> list[list[str]]:
    """The quick start's commands, each split as a shell would (comments dropped)."""
    text = readme.read_text()
    start = text.index(_MARKER)
    block = re.search(r"```\n(.*?)```", text[start:], re.DOTALL)
    assert block is not None, f"README.md has no code block after {_MARKER!r}"
    commands = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == "worldgym", f"not a worldgym command: {line}"
            commands.append(words[1:])
    return commands


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh config, data dir and working directory; the devnet stopped afterwards."""
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    work = tmp_path / "work"
    work.mkdir()
    (work / "worldgym").symlink_to(_REPO / "worldgym")
    monkeypatch.setenv("WORLDGYM_CONFIG", str(config))
    monkeypatch.setenv("WORLDGYM_PASSWORD", "a newcomer's password")
    for var in ("WORLDGYM_NETWORK", "WORLDGYM_WALLET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(work)
    yield work
    devnet_down(tmp_path / "data")


def test_the_quick_start_parses_to_the_path_to_a_reward() -> None:
    """Cheap: the block is there and walks the whole way, from a wallet to a claimed reward."""
    lines = [" ".join(command) for command in readme_quickstart()]
    for needed in ("wallet new", "devnet up", "model init", "model register", "mine --env",
                   "stake 1000", "validate --epochs", "devnet down"):  # fmt: skip
        assert any(line.startswith(needed) for line in lines), f"the quick start lacks {needed}"


def test_the_quick_start_runs_verbatim_to_a_first_reward(clone: Path) -> None:
    runner = CliRunner()
    timings = []
    rewarded = 0
    for args in readme_quickstart():
        if args[:2] == ["devnet", "down"]:
            rewarded = _claimed(_address(runner))  # read the chain before it stops
        started = time.monotonic()
        result = runner.invoke(app, args)
        timings.append((" ".join(args), time.monotonic() - started))
        assert result.exit_code == 0, f"`worldgym {' '.join(args)}` failed:\n{result.output}"
        assert "Traceback" not in result.output
    print("\n".join(f"{seconds:7.1f} s  worldgym {cmd}" for cmd, seconds in timings))
    assert rewarded > 0, "the quick start must end with a reward claimed"


def _address(runner: CliRunner) -> str:
    result = runner.invoke(app, ["wallet", "show", "alice", "--json"])
    assert result.exit_code == 0, result.output
    return str(json.loads(result.output)["address"])


def _claimed(address: str) -> int:
    protocol = Session().protocol()
    return int(protocol.gym.functions.claimedBy(address).call())
