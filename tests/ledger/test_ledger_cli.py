"""The ``worldgym ledger`` commands on a real devnet history: tables, JSON, offline answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ledger_helpers import METRICS, History, run
from typer.testing import CliRunner

from worldgym.cli.app import app
from worldgym.core.amounts import wgt_cell
from worldgym.deploy.anvil import free_port
from worldgym.refinery.curve import HISTORY_NAME
from worldgym.refinery.runs import refinery_root


def _json(*args: str) -> Any:
    """Run a command with --json; parse its stdout (warnings go to stderr)."""
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_queries_answer_for_addresses_epochs_envs_and_leaderboards(
    history: History, cli_home: Path
) -> None:
    h = history
    sync = _json("ledger", "sync")
    assert sync["end"] == h.chain.block_number()
    assert sync["events"] > 40

    miner_b = _json("ledger", "address", h.miner_b, "--no-sync")
    assert miner_b["address"] == h.miner_b
    assert int(miner_b["claimable"]) == h.credited(h.miner_b) == int(miner_b["credited"])
    assert [m["epoch"] for m in miner_b["miner"]] == list(h.epochs)
    owner2 = _json("ledger", "address", h.owner2)  # synced: also reads the wallet balance
    assert owner2["royalties"] == [
        {"env_id": 2, "royalty": str(h.credited(h.owner2)), "payments": 1, "owner_now": True}
    ]
    assert owner2["balance"] == str(h.chain.balance(h.owner2))

    epoch = _json("ledger", "epoch", str(h.epochs[0]), "--no-sync")
    assert [b["consensus"] for b in epoch["batches"]] == h.consensus[h.epochs[0]]
    revealed = list(h.scores(h.epochs[0]).values())[:2]
    assert [v["scores"] for v in epoch["validators"]] == [*revealed, None]  # the lazy one: none
    assert epoch["validators"][0]["matches"] == [True, True, True]  # its lanes are the consensus
    assert epoch["validators"][1]["matches"] == [False, True, False]
    assert [b["fraud"] for b in epoch["batches"]] == [False, False, True]
    assert epoch["env_weights"] == {str(k): w for k, w in h.env_weights[h.epochs[0]].items()}
    assert int(epoch["miner_slashed"]) == sum(n for _, n in h.miner_slashes.values())
    assert epoch["phase"] == "finalized"

    top = _json("ledger", "top", "--role", "validator", "--no-sync")
    assert [r["subject"] for r in top["rows"]] == [h.val_a, h.val_lazy, h.val_b]
    envs = _json("ledger", "top", "--role", "env", "--epochs", f"{h.epochs[1]}:{h.epochs[1]}")
    assert [(r["subject"], r["owner"]) for r in envs["rows"]] == [("2", h.owner2)]

    env = _json("ledger", "env", "1", "--no-sync")
    assert [v[0] for v in env["versions"]] == [1, 2]
    assert env["owner"] == h.owner1

    code, out = run("ledger", "top", "--no-sync")
    assert code == 0
    assert wgt_cell(h.credited(h.miner_b)) in out


def test_models_show_lineage_and_metrics_found_by_the_refinery(
    history: History, cli_home: Path
) -> None:
    d = history.chain.deployment
    rounds = refinery_root(cli_home, d.chain_id, d.addresses.worldgym) / HISTORY_NAME
    rounds.parent.mkdir(parents=True)
    rounds.write_text(json.dumps({"rounds": [{"round": 1, "model_id": 2, "metrics": METRICS}]}))
    models = _json("ledger", "models")
    assert [(m["model_id"], m["parent_id"], m["children"]) for m in models] == [
        (1, 0, [2]), (2, 1, []),
    ]  # fmt: skip
    assert models[0]["metrics"] is None
    assert models[1]["metrics"] == METRICS
    assert models[1]["metrics_verified"] is True
    assert (models[0]["batches"], models[1]["batches"]) == (1, 3)


def test_an_unreachable_node_is_a_warning_and_the_ledger_still_answers(
    history: History, cli_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("ledger", "sync")[0] == 0
    monkeypatch.setenv("WORLDGYM_NETWORKS__DEVNET__RPC_URL", f"http://127.0.0.1:{free_port()}")
    result = CliRunner().invoke(app, ["ledger", "status", "--json"])
    assert result.exit_code == 0, result.output
    assert "warning: not synced" in result.stderr
    assert json.loads(result.stdout)["indexed_block"] == history.chain.block_number()
    code, out = run("ledger", "sync")
    assert code == 1
    assert out.startswith("error:")


def test_bad_arguments_are_one_line_errors(history: History, cli_home: Path) -> None:
    code, out = run("ledger", "epochs", "--no-sync")
    assert code == 1
    assert out == "error: the ledger is empty: run `worldgym ledger sync` first\n"
    assert run("ledger", "sync")[0] == 0
    for args, message, expected in (
        (("ledger", "address", "0x1234", "--no-sync"), "is not an address", 2),
        (("ledger", "epoch", "99", "--no-sync"), "has not started", 1),
        (("ledger", "env", "9", "--no-sync"), "no environment 9", 1),
        (("ledger", "top", "--role", "king", "--no-sync"), "unknown role", 1),
        (("ledger", "top", "--epochs", "5:2", "--no-sync"), "is empty", 1),
    ):
        code, out = run(*args)
        assert code == expected, (args, out)
        assert out.startswith("error:"), out
        assert message in out, out
