"""``worldgym refine``, ``model list|show`` and ``dataset export``: the real CLI on a devnet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak
from refinery_world import Chain, Submission, make_chain, play_epoch, right, wrong
from typer.testing import CliRunner

from worldgym.cli.app import app
from worldgym.client.wallet import Keystore
from worldgym.deploy.anvil import AnvilProcess
from worldgym.deploy.devchain import DevChain

pytestmark = [pytest.mark.ml, pytest.mark.slow]

_PASSWORD = "the refinery's password"
_JOB = """
gate_margin = 1.0  # publish whatever the evaluation says: the gate has its own test
[selection]
max_traces = 64
max_per_miner = 32
[train]
learning_rate = 1e-2
epochs = 3
max_length = 128
[eval]
tasks = 16
samples_per_task = 2
ks = [1, 2]
max_new_tokens = 16
"""


def _config(world: Chain, anvil_url: str) -> Path:
    """A config for the real CLI; its wallet is a fresh key granted REFINERY_ROLE."""
    chain, root = world.chain, world.root
    account = Account.create()
    chain.w3.provider.make_request("anvil_setBalance", [account.address, hex(10**20)])
    chain.send(
        chain.deployer, chain.models, "grantRole", keccak(text="REFINERY_ROLE"), account.address
    )
    manifest = root / "manifest.json"
    chain.deployment.save(manifest)
    config = root / "config.toml"
    config.write_text(
        f'data_dir = "{root / "data"}"\nnetwork = "test"\n'
        f'[networks.test]\nrpc_url = "{anvil_url}"\nchain_id = {chain.deployment.chain_id}\n'
        f'manifest = "{manifest}"\n[storage]\npath = "{root / "store"}"\n'
    )
    Keystore(root / "data" / "keystore").import_key(account.key, _PASSWORD, light_kdf=True)
    return Path(config)


def _cli(config: Path, *args: str) -> tuple[int, str]:
    env = {"WORLDGYM_CONFIG": str(config), "WORLDGYM_PASSWORD": _PASSWORD}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_refine_then_show_the_lineage_and_export_the_dataset(
    chain: DevChain, sums_model_dir: Path, anvil: AnvilProcess, tmp_path: Path
) -> None:
    world = make_chain(chain, sums_model_dir, tmp_path)
    a, b, _ = world.miners
    epoch = play_epoch(world, [Submission(a, 20, right, 10_000), Submission(b, 6, wrong, 8_000)])
    config = _config(world, anvil.url)
    job = tmp_path / "job.toml"
    job.write_text(_JOB)

    code, out = _cli(config, "refine", "--once", "--job", str(job), "--json")
    assert code == 0, out
    report = json.loads(out[out.index("{") :])
    assert report["stage"] == "registered", report
    assert report["model_id"] == 2
    assert report["epochs"] == [epoch]

    code, out = _cli(config, "refine", "--job", str(job))
    assert code == 0, out
    assert "no new finalized epochs" in out

    code, out = _cli(config, "model", "list", "--json")
    assert code == 0, out
    assert [(m["id"], m["parent"]) for m in json.loads(out)] == [(1, 0), (2, 1)]

    code, out = _cli(config, "model", "list")
    assert code == 0, out
    assert "2 models (miners follow 2)" in out
    code, out = _cli(config, "model", "show", "2", "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["lineage"] == [2, 1]
    assert shown["dataset"] == report["dataset_cid"]
    assert shown["dataset_summary"]["epochs"] == [epoch]
    assert shown["dataset_summary"]["traces"] == 20
    assert shown["metrics"]["pass_at_1"] == report["metrics"]["pass_at_1"]
    code, out = _cli(config, "model", "show", "2")
    assert code == 0, out
    assert "lineage     2 <- 1" in out
    assert "trained by  sft" in out
    assert "pass@1" in out

    for fmt in ("jsonl", "parquet"):
        path = tmp_path / f"traces.{fmt}"
        code, out = _cli(
            config, "dataset", "export", "--epochs", f"0:{epoch + 3}", "--format", fmt,
            "--out", str(path), "--json",
        )  # fmt: skip
        assert code == 0, out
        summary = json.loads(out)
        assert summary["rows"] == 20
        assert summary["epochs"] == [epoch]
        assert summary["not_finalized"] == list(range(epoch + 1, epoch + 4))
        datasets = pytest.importorskip("datasets")
        loaded = datasets.load_dataset(
            "json" if fmt == "jsonl" else "parquet", data_files=str(path)
        )
        rows = loaded["train"]
        assert len(rows) == 20
        assert rows[0]["messages"][-1]["role"] == "assistant"
        assert set(rows["miner"]) == {a}


def test_mistakes_get_one_line_that_says_what_to_do(
    chain: DevChain, sums_model_dir: Path, anvil: AnvilProcess, tmp_path: Path
) -> None:
    world = make_chain(chain, sums_model_dir, tmp_path)
    config = _config(world, anvil.url)
    bad_job = tmp_path / "bad.toml"
    bad_job.write_text("[train]\nlearning_rate = 5.0\n")
    cases = [  # (arguments, what the line says, exit code: 2 for usage, 1 for the rest)
        (("refine", "--job", str(bad_job)), "learning_rate is 5.0; set it in (0, 1]", 1),
        (("refine", "--every", "0.1s"), "under a second", 2),
        (("refine", "--once", "--every", "1h"), "not both", 2),
        (("refine", "--algorithm", "ppo"), "use one of sft, grpo", 2),
        (("refine", "--epochs", "5:2"), "need 0 <= A <= B", 2),
        (("refine", "--epochs", "0:0"), "not finalized", 1),
        (("refine", "--once"), None, 0),  # nothing finalized yet: a no-op, exit 0
        (("dataset", "export", "--epochs", "0", "--format", "csv"), "use jsonl or parquet", 2),
        (("model", "show", "9"), "model", 1),
    ]
    for args, message, expected in cases:
        code, out = _cli(config, *args)
        assert code == expected, (args, out)
        if message is None:
            assert "no new finalized epochs" in out
            continue
        assert message in out, (args, out)
        assert "Traceback" not in out
