"""Every rule against the attacker who profits by breaking it: cheater reward / honest reward.

A devnet with the real contracts (:mod:`bench.adversary.world`): honest
miners and validators beside one attacker per strategy, in the same epochs,
through submit, commit, reveal, finalize and claim. For each attack the table
says which check caught it, the attacker's reward over its honest
counterpart's for equal work (miners: per batch of the same size; validators:
per unit of stake; environment owners: the honest ``sums`` owner), and what it
lost (bond, stake). ``--json`` prints
``{"attacks": [{"name", "detected_by", "reward_ratio", ...}], "honest_false_rejects",
"honest_samples"}``::

    python bench/attacks.py [--tasks 16] [--epochs 2] [--model DIR] [--json]

The base model is the tiny model warmed up on ``sums`` (built once into
``--model``, default ``~/.cache/worldgym/attacks-sums-base``), so honest
miners solve some tasks and their groups disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from bench.adversary.world import JUNK_VERIFIERS, AttackWorld
from worldgym.core.amounts import WAD


def base_models(model_dir: Path, *, examples: int = 1024) -> tuple[Path, Path]:
    """The declared model (warmed up on sums, built once) and another checkpoint."""
    from worldgym.gym import load_environment
    from worldgym.gym.environment import load_spec
    from worldgym.gym.environments import example_path
    from worldgym.policy.tiny import TinyModelConfig, build_tiny_model
    from worldgym.refinery.pretrain import pretrain_tiny

    if not (model_dir / "config.json").is_file():
        sums = load_environment(load_spec(example_path("sums")))
        pretrain_tiny(model_dir, sums, n_examples=examples)
    other = model_dir.parent / (model_dir.name + "-other")
    if not (other / "config.json").is_file():
        build_tiny_model(other, seed=9, config=TinyModelConfig(initializer_range=0.3))
    return model_dir, other


def _ratio(value: float, baseline: float) -> float | None:
    return None if baseline <= 0 else round(value / baseline, 4)


def measure(world: AttackWorld, epochs: list[int]) -> dict[str, Any]:
    """The attack table from what the contracts credited, and the honest false rejects."""
    chain = world.chain
    verdicts: dict[str, list[str]] = {}
    for epoch in epochs:
        for name, reason in world.verdicts(epoch).items():
            verdicts.setdefault(name, []).append(reason)
    honest_miners = [e for e in world.entries if e.name.startswith("honest miner")]
    honest_pay = sum(world.earned(e.actor) for e in honest_miners) / len(honest_miners)
    rows: list[dict[str, Any]] = []
    for entry in world.entries:
        if entry in honest_miners:
            continue
        earned = world.earned(entry.actor)
        reasons = verdicts.get(entry.name, [])
        caught = next((r for r in reasons if r.startswith(("fraud", "rejected", "submit"))), "")
        if not caught:
            caught = "not caught: " + (reasons[0] if reasons else "no batch")
        bond_lost = (
            world.bonds_before[entry.name] + entry.topped_up - chain.stake_of(entry.actor.address)
        )
        rows.append(
            {
                "name": entry.name,
                "role": "miner",
                "detected_by": caught[:160],
                "reward_ratio": _ratio(earned, honest_pay),
                "earned_wgt": earned / WAD,
                "bond_lost_wgt": bond_lost / WAD,
            }
        )
    honest_owner = world.earned(world.owners["sums"])
    for name in JUNK_VERIFIERS:
        if name in world.owners:
            earned = world.earned(world.owners[name])
            rows.append(
                {
                    "name": name + " (its owner)",
                    "role": "environment owner",
                    "detected_by": "learning signal / validators refuse the spec",
                    "reward_ratio": _ratio(earned, honest_owner),
                    "earned_wgt": earned / WAD,
                }
            )
    actors = _validator_actors(world)
    per_stake = {a.address: world.earned(a) / world.stakes[a.address] for a in actors}
    honest = [a for a in actors if world.names[a.address].startswith("honest")]
    honest_rate = sum(per_stake[a.address] for a in honest) / len(honest)
    for actor in actors:
        if actor in honest:
            continue
        stake_lost = world.stakes[actor.address] - chain.stake_of(actor.address)
        rows.append(
            {
                "name": world.names[actor.address],
                "role": "validator",
                "detected_by": "slashed at finalize" if stake_lost else "digest/lane mismatch",
                "reward_ratio": _ratio(per_stake[actor.address], honest_rate),
                "earned_wgt": world.earned(actor) / WAD,
                "stake_lost_wgt": stake_lost / WAD,
            }
        )
    honest_rejects = sum(
        1
        for e in honest_miners
        for r in verdicts.get(e.name, [])
        if r.startswith(("fraud", "rejected"))
    )
    samples = len(epochs) * len(honest_miners) * world.tasks * world.envs["sums"][1].spec.group_size
    return {
        "attacks": rows,
        "honest_miner_wgt": honest_pay / WAD,
        "honest_false_rejects": honest_rejects,
        "honest_samples": samples,
        "epochs": epochs,
    }


def _validator_actors(world: AttackWorld) -> list[Any]:
    """Every validator's actor, honest and not."""
    return [a for a in world.net.actors if a.address in world.names]


def run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    """Build the world, play ``args.epochs`` epochs, measure."""
    base, other = base_models(args.model)
    with tempfile.TemporaryDirectory(prefix="worldgym-attacks-") as tmp:
        world = AttackWorld(
            Path(tmp), base, other, tasks=args.tasks, miner_attacks=args.only, console=console
        )
        try:
            epochs = [world.play_epoch() for _ in range(args.epochs)]
            return measure(world, epochs)
        finally:
            world.close()


def print_table(result: dict[str, Any], console: Console) -> None:
    """The attack table."""
    table = Table(title="attacker reward / honest reward, same epochs, real contracts")
    for col in ("attack", "role", "caught by", "ratio", "lost (WGT)"):
        table.add_column(col, overflow="fold")
    for row in result["attacks"]:
        ratio = "n/a" if row["reward_ratio"] is None else f"{row['reward_ratio']:.3f}"
        lost = row.get("bond_lost_wgt", row.get("stake_lost_wgt", 0.0))
        table.add_row(row["name"], row["role"], row["detected_by"][:90], ratio, f"{lost:,.0f}")
    console.print(table)
    console.print(
        f"honest miners earned {result['honest_miner_wgt']:,.2f} WGT each; honest batches "
        f"rejected: {result['honest_false_rejects']} of {result['honest_samples']} honest samples"
    )


def main() -> None:
    """``python bench/attacks.py``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=16, help="tasks per batch (every miner)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument(
        "--model",
        type=Path,
        default=Path.home() / ".cache" / "worldgym" / "attacks-sums-base",
        help="the warmed-up base model (built here if missing)",
    )
    parser.add_argument("--only", action="append", help="run only these miner attacks")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=True)
    result = run(args, console)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result, Console())


if __name__ == "__main__":
    main()
