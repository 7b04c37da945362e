"""Degenerate-answer audit of every reasoning-gym dataset a spec may name.

For each dataset (default config, or the smallest one the gym's bounds accept,
``reasoning_gym`` verifier, as the gym scores
it: guards and stricter rules included) derive ``--tasks`` tasks from a fixed
seed and score the strategies of :mod:`worldgym.gym.audit` (empty, constants, the
question copied, a line of it, its blanks filled with 1, another task's answer,
a list of answers, per-dataset ones such as everyone a knight or a premise
restated). A strategy's credit is its mean score on the tasks where its answer
is not the reference. Prints a markdown table (the one in worldgym/gym/README.md): the
worst strategy per dataset, its credit, and what the gym does about it.

    python bench/degenerate_audit.py --tasks 300 --jobs 2 --json audit.json
    python bench/degenerate_audit.py --raw ...   # reasoning-gym's own scores, no strict rules

``--raw`` scores with reasoning-gym's scorer as shipped (the gym's stricter
rules switched off), which is how the table's "before" column is measured.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RG = "0.1.25"


def _spec(dataset: str) -> bytes:
    from reasoning_gym.factory import DATASETS

    from worldgym.gym.generators._rg_bounds import required_config

    generator = {
        "kind": "reasoning_gym", "dataset": dataset, "reasoning_gym_version": RG,
        "config": required_config(dataset, DATASETS[dataset][1]),
    }  # fmt: skip
    return json.dumps(
        {"schema": "worldgym.env/1", "name": "audit", "generator": generator,
         "verifier": {"kind": "reasoning_gym"}}
    ).encode()  # fmt: skip


def audit_dataset(dataset: str, tasks: int, raw: bool) -> dict[str, Any]:
    """The audit row of one dataset (run in a worker process)."""
    from worldgym import gym
    from worldgym.gym.audit import audit
    from worldgym.gym.generators import _rg_strict

    if raw:  # reasoning-gym's scorers as shipped: no checks, partial credit paid, none refused
        _rg_strict.CHECKS.clear()
        _rg_strict.ALL_OR_NOTHING.clear()
        _rg_strict.REFUSED.clear()
    start = time.perf_counter()
    try:
        report = audit(gym.load_environment(_spec(dataset)), tasks)
    except Exception as exc:  # a dataset that cannot be loaded is reported, not fatal
        return {"dataset": dataset, "error": f"{type(exc).__name__}: {exc}"[:300]}
    name, credit = report.worst()
    return {
        "dataset": dataset,
        "tasks": report.tasks,
        "reference_mean": report.reference_mean,
        "worst": name,
        "credit": credit,
        "raw": report.rows.get(name, (0.0, 0.0))[1],
        "rows": {n: list(row) for n, row in report.rows.items()},
        "refusal": report.refusal(),
        "seconds": round(time.perf_counter() - start, 1),
    }


def _treatment(dataset: str) -> str:
    from worldgym.gym.generators._rg_strict import ALL_OR_NOTHING, CHECKS, REFUSED

    if dataset in REFUSED:
        return "refused at registration"
    parts = []
    if dataset in CHECKS:
        parts.append("check: " + (CHECKS[dataset].__doc__ or CHECKS[dataset].__name__).strip())
    if dataset in ALL_OR_NOTHING:
        parts.append("full marks only")
    return "; ".join(parts) or "as reasoning-gym scores"


def _markdown(rows: list[dict[str, Any]], before: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| dataset | worst degenerate answer (before) | credit before | credit now | gym |",
        "|---|---|---:|---:|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['dataset']} | error: {row['error'][:60]} | | | |")
            continue
        old = before.get(row["dataset"], row)
        if "error" in old:
            old = row
        lines.append(
            f"| {row['dataset']} | {old['worst']} | {old['credit']:.2f} | {row['credit']:.2f} | "
            f"{_treatment(row['dataset'])} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Audit every dataset (or ``--datasets``) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--datasets", nargs="*")
    parser.add_argument("--raw", action="store_true", help="reasoning-gym's scorers as shipped")
    parser.add_argument("--before", type=Path, help="a --raw JSON run, for the 'before' column")
    parser.add_argument("--json", type=Path, help="write every row here")
    parser.add_argument("--rows", type=Path, help="print the table of a saved --json run instead")
    args = parser.parse_args()
    before = {r["dataset"]: r for r in json.loads(args.before.read_text())} if args.before else {}
    if args.rows:
        print(_markdown(json.loads(args.rows.read_text()), before))
        return

    from reasoning_gym.factory import DATASETS

    from worldgym.gym.generators._rg_catalog import EXCLUDED

    names = args.datasets or sorted(d for d in DATASETS if d not in EXCLUDED)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(audit_dataset, name, args.tasks, args.raw) for name in names]
        rows = []
        for future in futures:
            row = future.result()
            rows.append(row)
            shown = row.get("error") or f"{row['worst']}: {row['credit']:.3f} ({row['seconds']} s)"
            print(f"{row['dataset']}: {shown}", file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(_markdown(rows, before))
    over = [r["dataset"] for r in rows if "error" not in r and r["credit"] > 0.05 + 1e-9]
    print(f"\n{len(rows)} datasets, {args.tasks} tasks each; credit above 0.05: {over or 'none'}")


if __name__ == "__main__":
    main()
