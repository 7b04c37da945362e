"""`model init` makes a checkpoint to register; registering and refining check the role first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run as _run

pytestmark = pytest.mark.ml


@pytest.fixture
def alice(home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WORLDGYM_PASSWORD", "pw")
    assert _run("devnet", "up", "--block-time", "0")[0] == 0
    code, out = _run("wallet", "new", "--name", "alice", "--light-kdf", "--json")
    assert code == 0, out
    return str(json.loads(out)["address"])


def test_init_then_register_needs_the_refinery_role_checked_before_any_work(
    alice: str, home: Path
) -> None:
    model = home / "base"
    code, out = _run("model", "init", str(model), "--no-warm-up", "--json")
    assert code == 0, out
    assert (model / "config.json").is_file()
    assert any(model.glob("*.safetensors"))

    store = home / "data" / "store"
    code, out = _run("model", "register", str(model))
    assert code == 2
    assert f"{alice} does not hold REFINERY_ROLE" in out  # the role by name, not its hash
    assert "worldgym devnet fund WALLET --refinery" in out
    assert not (store / "blocks").exists() or not any((store / "blocks").rglob("baf*")), (
        "nothing may be pinned before the role check"
    )
    code, out = _run("refine", "--once")
    assert code == 2
    assert "does not hold REFINERY_ROLE" in out  # refused before selecting or training

    assert _run("devnet", "fund", "alice", "--refinery")[0] == 0
    code, out = _run("model", "register", str(model), "--json")
    assert code == 0, out
    assert json.loads(out)["model_id"] == 1
    assert any((store / "blocks").rglob("baf*")), "a registered model is pinned"


def test_init_refuses_a_used_directory_and_a_directory_that_is_no_checkpoint(
    home: Path, model_dir: Path
) -> None:
    used = home / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    code, out = _run("model", "init", str(used), "--no-warm-up")
    assert code == 2
    assert "is not an empty directory" in out
    code, out = _run("model", "init", str(home / "copy"), "--from", str(home))
    assert code == 2
    assert "is not a Hugging Face checkpoint" in out
    code, out = _run("model", "init", str(home / "copy"), "--from", str(home / "nowhere"))
    assert code == 2
    assert "does not exist" in out

    code, out = _run("model", "init", str(home / "copy"), "--from", str(model_dir), "--json")
    assert code == 0, out
    assert sorted(p.name for p in (home / "copy").iterdir()) == sorted(
        p.name for p in model_dir.iterdir() if p.suffix in (".json", ".safetensors", ".jinja")
    )
    code, out = _run("model", "init", str(home / "x"), "--warm-up", "no-such-env")
    assert code == 2
    assert "neither a spec file nor an example" in out
