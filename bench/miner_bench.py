"""Miner throughput: the whole batch pipeline against raw ``model.generate``, same run.

* **miner**: :func:`worldgym.miner.build.build_batch` with the transformers backend:
  derive each task (keccak + reasoning-gym), render the chat prompt, sample
  ``group`` completions per task with per-token log-probabilities, extract
  answers, assemble and validate the ``worldgym.batch/1`` document, encode it
  canonically and compute its CID;
* **raw**: ``model.generate`` on the same chat-templated prompts (prompts
  tokenized before the clock starts), same batch size, left padding, same
  sampling settings with transformers' own sampler, no keyed noise, no
  log-probabilities, no document.

The two samplers draw different texts of similar lengths, so tokens/s (not
traces/s) is the like-for-like figure, and the token counts are printed.
Each side runs ``--repeats`` times, interleaved; the best counts. Usage:
``python bench/miner_bench.py [--tasks N] [--group G] [--max-new-tokens T]
[--repeats R] [--json]``. Goal: miner / raw >= 0.9 on CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from worldgym.core.schemas import ModelRef, Sampling, encode_batch
from worldgym.gym import load_environment
from worldgym.gym.environment import load_spec
from worldgym.gym.environments import example_path
from worldgym.miner.build import BatchPlan, build_batch, derive_tasks
from worldgym.policy.hf import TransformersPolicy
from worldgym.policy.tiny import TinyModelConfig, build_tiny_model
from worldgym.storage import compute_cid

_MINER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _raw(
    policy: TransformersPolicy, prompts: list[list[int]], group: int, s: Sampling, chunk: int
) -> int:
    """Plain ``model.generate`` over the same prompts; returns tokens generated."""
    pad = int(policy.tokenizer.pad_token_id)
    tokens = 0
    for start in range(0, len(prompts), chunk):
        part = [p for p in prompts[start : start + chunk] for _ in range(group)]
        torch.manual_seed(7 + start)  # HF's own sampler: the baseline need not be keyed
        for b in range(0, len(part), policy.batch_size):
            rows = part[b : b + policy.batch_size]
            width = max(len(r) for r in rows)
            ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
            mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
            with torch.inference_mode():
                out = policy.model.generate(
                    input_ids=ids, attention_mask=mask, do_sample=True, temperature=s.temperature,
                    top_p=s.top_p, top_k=0, max_new_tokens=s.max_new_tokens, pad_token_id=pad,
                    eos_token_id=policy.eos_token_id,
                )  # fmt: skip
            new = out[:, width:]
            for row in new.tolist():  # up to and including the end token, as the miner keeps
                eos = policy.eos_token_id
                tokens += row.index(eos) + 1 if eos in row else len(row)
    return tokens


def main() -> None:
    """Run the benchmark and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))

    with tempfile.TemporaryDirectory() as tmp:
        shape = TinyModelConfig(hidden_size=128, layers=4, heads=4, intermediate_size=384)
        policy = TransformersPolicy(build_tiny_model(Path(tmp) / "m", config=shape), batch_size=16)
    env = load_environment(load_spec(example_path("arithmetic")))
    sampling = Sampling(temperature=1.0, top_p=1.0, max_new_tokens=args.max_new_tokens)
    plan = BatchPlan(
        chain_id=31337, contract=_MINER, epoch=1, seed=b"\x11" * 32, miner=_MINER, env_id=1,
        env_version=1, sequence=0, task_count=args.tasks, group_size=args.group,
        model=ModelRef(id=1, digest="bafy-bench"), sampling=sampling,
    )  # fmt: skip
    prompts = [policy.prompt_ids(env.prompt(t)) for t in derive_tasks(plan, env)]

    best: dict[str, float] = {"miner": float("inf"), "raw": float("inf")}
    counts: dict[str, int] = {}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        doc = build_batch(plan, env, policy)
        compute_cid(encode_batch(doc))
        best["miner"] = min(best["miner"], time.perf_counter() - t0)
        counts["miner"] = sum(len(t.tokens) for t in doc.traces)
        t0 = time.perf_counter()
        counts["raw"] = _raw(policy, prompts, args.group, sampling, chunk=8)
        best["raw"] = min(best["raw"], time.perf_counter() - t0)

    traces = args.tasks * args.group
    result: dict[str, Any] = {
        "traces": traces,
        "miner_traces_per_s": traces / best["miner"],
        "raw_traces_per_s": traces / best["raw"],
        "miner_tokens_per_s": counts["miner"] / best["miner"],
        "raw_tokens_per_s": counts["raw"] / best["raw"],
        "miner_tokens": counts["miner"],
        "raw_tokens": counts["raw"],
    }
    result["ratio"] = result["miner_tokens_per_s"] / result["raw_tokens_per_s"]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{traces} traces, {args.max_new_tokens} new tokens max, best of {args.repeats}")
    for side, label in (("miner", "miner pipeline"), ("raw", "raw generate")):
        rate, tok = result[f"{side}_traces_per_s"], result[f"{side}_tokens_per_s"]
        print(f"  {label:<15} {rate:8.1f} traces/s {tok:9.0f} tok/s")
    tokens = f"{result['miner_tokens']} vs {result['raw_tokens']} tokens"
    print(f"  ratio miner/raw (tok/s): {result['ratio']:.2f} (goal >= 0.9); {tokens}")


if __name__ == "__main__":
    main()
