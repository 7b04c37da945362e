"""The demo (``make demo``), end to end: the whole network on one machine.

The short version runs one round with small batches and checks what a token
holder would: every actor's rewards on chain, a slashed validator, the
contribution ledger indexed from the chain's events reconciling with the
contracts to the wei, and the dashboard serving the same numbers. The full
version runs ``make demo``'s own settings (three rounds of mine -> validate ->
finalize -> refine on chain) and checks the flywheel: the registered models,
evaluated on the same held-out tasks, at least double the base model's pass@1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from worldgym.deploy.demo import DemoOptions, DemoResult, run

pytestmark = [pytest.mark.ml, pytest.mark.slow]


def _demo(tmp_path: Path, *, rounds: int = 3, tasks: int = 192) -> tuple[DemoResult, str]:
    console = Console(record=True, width=120)
    options = DemoOptions(rounds=rounds, tasks=tasks, data_dir=tmp_path)
    result = run(options, tmp_path, console)
    return result, console.export_text()


def test_short_demo_pays_everyone_and_the_ledger_reconciles(tmp_path: Path) -> None:
    # 8 tasks x the spec's group of 8: the base model (~10% right on sums) leaves some sums
    # groups split between right and wrong, so every sums batch carries learning signal
    result, out = _demo(tmp_path, rounds=1, tasks=8)
    (epoch,) = result.epochs
    assert epoch.batches == 4  # two miners, two environments
    assert epoch.traces == 4 * 8 * 8
    assert len(epoch.consensus) == 4
    paid = result.payouts
    assert paid["validator-a"] > paid["validator-b"] > 0  # stake-weighted, both agreed
    assert paid["validator-c"] == 0  # committed, never revealed
    assert result.stakes["validator-c"] < result.stakes_before["validator-c"]  # slashed
    assert result.ledger_check_ok, result.ledger_check
    # the dashboard served the ledger's leaderboard: the miners' rewards, as claimed on chain
    board = {row["subject"].lower(): int(row["reward"]) for row in result.dashboard_top_miners}
    claimed = {name: amount for name, amount in paid.items() if name.startswith("miner-")}
    assert min(claimed.values()) > 0
    assert sorted(board.values()) == sorted(claimed.values())
    assert result.dashboard_url in out
    assert "ledger check" in out


def test_the_demo_flywheel_at_least_doubles_pass_at_1(tmp_path: Path) -> None:
    result, out = _demo(tmp_path)
    assert len(result.epochs) == 3
    assert result.ledger_check_ok, result.ledger_check
    scores = result.lineage_pass_at_1
    assert result.models == len(scores) >= 2, out  # the base and at least one refined model
    base, best = scores[1], scores[result.models]
    assert base > 0, "the warm start must sometimes succeed, or there is nothing to amplify"
    assert best >= 2 * base, f"pass@1 per model {scores}: not doubled after three rounds\n{out}"
    assert (tmp_path / "refinery" / "learning_curve.png").read_bytes().startswith(b"\x89PNG")
