"""The demo's closing tables: who earned what, per role."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from worldgym.core.amounts import format_wgt, wgt_cell
from worldgym.deploy.demo.network import DemoNetwork
from worldgym.gym import load_environment
from worldgym.gym.registry import resolve
from worldgym.policy.checkpoint import fetch_checkpoint
from worldgym.refinery.config import EvalConfig
from worldgym.refinery.curve import load_history
from worldgym.refinery.evaluate import evaluate, held_out_tasks
from worldgym.refinery.pretrain import REFINE_TRAIN_CONFIG
from worldgym.refinery.service import RefineConfig
from worldgym.storage import cid_from_bytes

__all__ = ["evaluate_lineage", "print_lineage", "print_payouts", "refine_config"]


def print_payouts(net: DemoNetwork, console: Console) -> None:
    """Claimed rewards, claimable rewards and stake of every actor, read from the chain."""
    chain = net.chain
    table = Table(title="Who earned what (WGT, from the contracts)")
    for column in ("actor", "role", "address", "claimed", "claimable", "stake"):
        table.add_column(
            column, justify="left" if column in ("actor", "role", "address") else "right"
        )
    for actor in net.actors:
        claimed = int(chain.gym.functions.claimedBy(actor.address).call())
        stake = chain.stake_of(actor.address)
        claimable = chain.claimable(actor.address)
        table.add_row(
            actor.name, actor.role, actor.address[:10] + "…", wgt_cell(claimed),
            wgt_cell(claimable), wgt_cell(stake) if stake else "",
        )  # fmt: skip
    console.print(table)
    carried = format_wgt(chain.gym.functions.carry().call())
    console.print(f"carried to later epochs (slashes + rounding): {carried}")


def refine_config() -> RefineConfig:
    """The demo refinery's settings: small enough for two CPU cores."""
    return RefineConfig(
        train=REFINE_TRAIN_CONFIG,
        eval=EvalConfig(tasks=128, samples_per_task=4, ks=(1, 4), max_new_tokens=20),
    )


def evaluate_lineage(
    net: DemoNetwork, env_id: int, cache: Path, config: EvalConfig
) -> dict[int, float]:
    """pass@1 of every registered model on the same held-out tasks of ``env_id``.

    The refinery's gate compares a parent and its candidate on tasks fresh to
    each run; this puts the whole lineage on one set, so the numbers line up.
    """
    chain = net.chain
    version, spec = resolve(chain, net.store, env_id)
    env = load_environment(spec)
    tasks = held_out_tasks(env, env_id, version, "demo-lineage", config.tasks)
    scores = {}
    for model_id in range(1, chain.latest_model_id() + 1):
        cid = cid_from_bytes(chain.model(model_id).checkpoint_cid)
        model_dir = fetch_checkpoint(net.store, cid, cache)
        scores[model_id] = evaluate(model_dir, env, tasks, config).pass_at_1
    return scores


def print_lineage(
    net: DemoNetwork, root: Path, lineage_pass: dict[int, float], env_name: str, console: Console
) -> None:
    """The registered models, parent to child, with pass@1; and every refinery round."""
    chain = net.chain
    table = Table(title=f"Model lineage (ModelRegistry), pass@1 on the same held-out {env_name}")
    for column in ("model", "parent", "checkpoint", "dataset", "pass@1"):
        table.add_column(column)
    for model_id in range(1, chain.latest_model_id() + 1):
        record = chain.model(model_id)
        dataset = cid_from_bytes(record.dataset_cid) if record.dataset_cid else "(base model)"
        checkpoint = cid_from_bytes(record.checkpoint_cid)[:24] + "…"
        short = dataset[:24] + ("…" if record.dataset_cid else "")
        score = lineage_pass.get(model_id)
        table.add_row(
            str(model_id), str(record.parent_id or ""), checkpoint, short,
            "" if score is None else f"{score:.3f}",
        )  # fmt: skip
    console.print(table)
    rounds = Table(title="Refinery rounds: pass@1 on each run's fresh held-out tasks")
    for column in ("round", "traces", "environment", "parent -> candidate", "published"):
        rounds.add_column(column)
    for n, entry in enumerate(load_history(root), start=1):
        for name, values in entry.get("environments", {}).items():
            rounds.add_row(
                str(n), str(entry.get("traces", "")), name,
                f"{values['parent']:.3f} -> {values['candidate']:.3f}",
                f"model {entry['model_id']}" if "model_id" in entry else "no (gate)",
            )  # fmt: skip
    console.print(rounds)
