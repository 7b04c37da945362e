"""A fast, seeded subset of ``bench/attacks.py`` on the real contracts: every cheat loses.

Two honest miners, three cheating ones, a junk environment and its miner,
two honest validators beside four lazy ones and one that never reveals, one
epoch: each attacker earns nothing (validators: per unit of stake), the
flagged miners lose bond, the silent validator is slashed, and no honest
batch is rejected.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

pytestmark = [pytest.mark.ml, pytest.mark.slow]

# attacks that are cheating in every batch: best-of-16 is left to the bench, since a batch in
# which no spare sample changes a group's outcome is the honest batch, rightly not caught
ATTACKS = ["forge: short answer", "greedy declared as T", "replayed CID"]


def test_every_attack_in_the_fast_subset_earns_nothing(
    tmp_path: Path, sums_model_dir: Path
) -> None:
    from bench.adversary.world import AttackWorld
    from bench.attacks import base_models, measure

    # the session's warmed-up sums model (what base_models would build); it adds the other one
    base, other = base_models(sums_model_dir)
    world = AttackWorld(
        tmp_path / "world", base, other, tasks=6, miner_attacks=ATTACKS,
        console=Console(quiet=True),
    )  # fmt: skip
    try:
        epoch = world.play_epoch()
        result = measure(world, [epoch])
    finally:
        world.close()
    assert result["honest_miner_wgt"] > 0, "honest miners must earn for the ratios to mean anything"
    assert result["honest_false_rejects"] == 0
    rows = {r["name"]: r for r in result["attacks"]}
    for name in ATTACKS:
        assert rows[name]["reward_ratio"] == 0, rows[name]
        assert rows[name]["detected_by"].startswith("fraud"), rows[name]
        assert rows[name]["bond_lost_wgt"] > 0, rows[name]
    assert "proof of rollout" in rows["forge: short answer"]["detected_by"]
    assert "header miner" in rows["replayed CID"]["detected_by"]
    for name in ("junk environment (accepts anything)", "coin-flip environment"):
        assert rows[name + " (its miner)"]["reward_ratio"] == 0, rows[name + " (its miner)"]
        assert rows[name + " (its owner)"]["reward_ratio"] == 0, rows[name + " (its owner)"]
    for name in (
        "lazy validator: no proof of rollout",
        "lazy validator: all zeros",
        "lazy validator: full marks",
        "lazy validator: copies last epoch",
    ):
        assert rows[name]["reward_ratio"] is not None
        assert rows[name]["reward_ratio"] <= 0.1, rows[name]
    silent = rows["commits, never reveals"]
    assert silent["reward_ratio"] == 0
    assert silent["stake_lost_wgt"] > 0
