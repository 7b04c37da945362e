"""Serve one reasoning-gym dataset from an interpreter started with ``PYTHONHASHSEED=0``.

Run by :mod:`worldgym.gym.generators._pinned` as ``python _pinned_worker.py DATASET CONFIG_JSON
PER_TASK``. Requests and answers are JSON lines on stdin/stdout:

* ``{"op": "generate", "seed": s}`` -> ``{"question", "answer", "metadata"}``
  (the item defined in :mod:`worldgym.gym.generators.rg`, metadata made JSON-safe);
* ``{"op": "score", "seed": s, "answer": a}`` -> ``{"value": float}``; the entry
  is re-derived here, so the scorer sees reasoning-gym's own objects.

Anything else goes to stderr (some datasets print), never to the answer stream.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from functools import lru_cache
from typing import Any

_INDEX_KEYS = ("source_index", "source_idx")


def _serve(dataset: str, config: dict[str, Any], per_task: bool) -> None:
    import reasoning_gym

    from worldgym.gym.generators._rg_guards import harden_literal_scorers, pristine_decimals

    harden_literal_scorers()
    instance = reasoning_gym.create_dataset(
        dataset, **config, seed=0, size=1 if per_task else 2**32
    )

    @lru_cache(maxsize=256)
    def entry(seed: int) -> dict[str, Any]:
        item: dict[str, Any] = (
            reasoning_gym.create_dataset(dataset, **config, seed=seed, size=1)[0]
            if per_task
            else instance[seed]
        )
        metadata = item.get("metadata")
        if isinstance(metadata, dict):
            for key in _INDEX_KEYS:
                if key in metadata:
                    metadata[key] = 0
        return item

    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # stray prints from datasets land on stderr
    for line in sys.stdin:
        request = json.loads(line)
        try:
            with contextlib.redirect_stdout(sys.stderr), pristine_decimals():
                item = entry(int(request["seed"]))
                if request["op"] == "generate":
                    reply = {k: item.get(k) for k in ("question", "answer", "metadata")}
                else:
                    reply = {"value": float(instance.score_answer(request["answer"], item))}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        answers.write(json.dumps(reply, default=repr) + "\n")
        answers.flush()


if __name__ == "__main__":
    # the directory holding `worldgym` instead of this script's, so it imports and nothing shadows
    sys.path[0] = os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    )
    _serve(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "1")
