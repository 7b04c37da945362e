"""How far apart do honest miners and validators compute? The tolerance of the proof of rollout.

A miner samples with the KV cache, left padding and a batch of prompts, in
float32 or bfloat16; a validator re-runs the model in float32 with one
teacher-forced pass, right padding and another batch size. Each difference
shows up in the Gumbel-max check as a *gap*: how many logits the sampled
token's perturbed score lies below the best one (0 when both sides agree
exactly). This bench samples honestly under each condition, checks every
trace with the validator's code, and prints the largest gap seen, the largest
log-probability difference, and how many honest traces the default
tolerances would reject, for several model shapes and three sampling
settings. The defaults in ``worldgym.policy.rollout.Tolerances`` must sit above every
gap here with a margin::

    python bench/tolerance_bench.py [--samples N] [--json]

``--samples`` is per (shape, precision, setting); the default totals over
20,000 honest traces.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from worldgym.core.schemas import Sampling
from worldgym.policy.gumbel import seeded_keys
from worldgym.policy.hf import TransformersPolicy
from worldgym.policy.rollout import Tolerances, TraceToCheck, check_rollouts
from worldgym.policy.tiny import TinyModelConfig, build_tiny_model

SHAPES = {
    "tiny-64x2": TinyModelConfig(initializer_range=0.3),
    "small-256x4": TinyModelConfig(
        hidden_size=256, layers=4, heads=8, intermediate_size=768, initializer_range=0.1
    ),
}
SETTINGS = {
    "T=1 p=1": Sampling(temperature=1.0, top_p=1.0, max_new_tokens=24),
    "T=0.7 p=0.9": Sampling(temperature=0.7, top_p=0.9, max_new_tokens=24),
    "greedy": Sampling(temperature=0.0, top_p=1.0, max_new_tokens=24),
}
CONDITIONS = {  # how the miner runs: (dtype, generation batch size); the validator: fp32, batch 8
    "fp32 b16": ("float32", 16),
    "fp32 b3": ("float32", 3),
    "bf16 b16": ("bfloat16", 16),
}
MAIN = ("tiny-64x2", "fp32 b16")  # the row that gets --samples; every other row --others


def _prompts(n: int) -> list[list[dict[str, str]]]:
    return [
        [{"role": "user", "content": f"What is {i % 97} + {(7 * i) % 89}? Think, then answer."}]
        for i in range(n)
    ]


def run(samples: int, others: int, console: Console) -> list[dict[str, object]]:
    """Each (shape, miner, setting): traces, rejects at the default tolerances, worst numbers."""
    rows: list[dict[str, object]] = []
    tol = Tolerances()
    with tempfile.TemporaryDirectory() as tmp, Progress(console=console) as progress:
        total = len(SHAPES) * len(CONDITIONS) * len(SETTINGS)
        bar = progress.add_task("honest traces", total=total)
        for shape_name, shape in SHAPES.items():
            model_dir = build_tiny_model(Path(tmp) / shape_name, seed=3, config=shape)
            validator = TransformersPolicy(model_dir, batch_size=8)
            for cond_name, (dtype, batch) in CONDITIONS.items():
                miner = TransformersPolicy(model_dir, batch_size=batch, dtype=dtype)
                for set_name, sampling in SETTINGS.items():
                    group = 4
                    count = samples if (shape_name, cond_name) == MAIN else others
                    prompts = _prompts(max(1, count // group))
                    label = f"{shape_name}/{cond_name}/{set_name}".encode()
                    keys = seeded_keys(zlib.crc32(label), len(prompts), group)
                    started = time.perf_counter()
                    groups = miner.generate(prompts, n=group, sampling=sampling, keys=keys)
                    traces = [
                        TraceToCheck(p, c.tokens, c.logprobs, c.text, k)
                        for p, g, ks in zip(prompts, groups, keys, strict=True)
                        for c, k in zip(g, ks, strict=True)
                    ]
                    checks = check_rollouts(validator, traces, sampling, tol)
                    rows.append(
                        {
                            "shape": shape_name,
                            "miner": cond_name,
                            "sampling": set_name,
                            "traces": len(checks),
                            "tokens": sum(c.tokens for c in checks),
                            "rejected": sum(not c.ok for c in checks),
                            "max_gap": max(c.worst_gap for c in checks),
                            "max_logprob_diff": max(c.max_abs_diff for c in checks),
                            "seconds": round(time.perf_counter() - started, 1),
                            "reasons": sorted({c.reason for c in checks if not c.ok})[:3],
                        }
                    )
                    progress.advance(bar)
    return rows


def _supported(row: dict[str, object]) -> bool:
    """float32 miners are the protocol's; bfloat16 rows are measured to show why."""
    return str(row["miner"]).startswith("fp32")


def main() -> None:
    """Print the table (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--samples", type=int, default=7000, help="traces per setting, tiny model, fp32 batch 16"
    )
    parser.add_argument("--others", type=int, default=200, help="traces in every other row")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=True)
    rows = run(args.samples, args.others, console)
    tol = Tolerances()
    summary = {
        "tolerances": {"logit_gap": tol.logit_gap, "nucleus_mass": tol.nucleus_mass},
        "honest_traces": sum(int(str(r["traces"])) for r in rows if _supported(r)),
        "honest_rejected": sum(int(str(r["rejected"])) for r in rows if _supported(r)),
        "bf16_rejected": [f"{r['rejected']}/{r['traces']}" for r in rows if not _supported(r)],
        "max_gap": {
            cond: max(float(str(r["max_gap"])) for r in rows if r["miner"] == cond)
            for cond in CONDITIONS
        },
        "max_logprob_diff": {
            cond: max(float(str(r["max_logprob_diff"])) for r in rows if r["miner"] == cond)
            for cond in CONDITIONS
        },
        "rows": rows,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    table = Table(title=f"honest gaps vs tolerance {tol.logit_gap} logits")
    for col in ("shape", "miner", "sampling", "traces", "rejected", "max gap", "max |dlogp|", "s"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["shape"]), str(r["miner"]), str(r["sampling"]), str(r["traces"]),
            str(r["rejected"]), f"{float(str(r['max_gap'])):.2e}",
            f"{float(str(r['max_logprob_diff'])):.2e}", str(r["seconds"]),
        )  # fmt: skip
    Console().print(table)
    print(
        f"{summary['honest_traces']} honest float32 traces, {summary['honest_rejected']} "
        f"rejected (bfloat16: {', '.join(summary['bf16_rejected'])}) at "  # type: ignore[arg-type]
        f"tolerance {tol.logit_gap}; worst gap / |dlogp| by miner: "
        + ", ".join(
            f"{k} {summary['max_gap'][k]:.1e} / {v:.1e}"  # type: ignore[index]
            for k, v in summary["max_logprob_diff"].items()  # type: ignore[attr-defined]
        )
    )


if __name__ == "__main__":
    main()
