"""How a validator weighs environments: by what training on them bought, as the refinery measured.

Each validator reveals a weight in 0..10,000 per environment with batches in
the epoch; the pots are split across environments by the stake-weighted median
of those weights (docs/protocol-v2.md §3-4). An honest default, and what
``worldgym validate`` does unless given ``--env-weights FILE``:

* an environment the gym refuses (it cannot be loaded or reproduced here, its
  verifier ignores the reference, degenerate answers pass): **0**;
* otherwise a **floor** (so new environments can be mined and measured) plus
  the rest in proportion to its last measured **gain**: the pass@1 of the
  latest registered models that were evaluated on it, candidate minus parent,
  from the metrics documents the refinery ships in each checkpoint (checked
  against the digest on chain); a gain of :data:`FULL_GAIN` or more earns the
  full weight, no gain the floor.

A file (JSON ``{"env_id": weight}``) overrides the policy for the listed
environments; unlisted ones get the policy's weight.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from worldgym.chain.contracts import Protocol
from worldgym.core.errors import WorldGymError
from worldgym.gym.signal import SCORE_SCALE
from worldgym.policy.metrics import checkpoint_metrics
from worldgym.storage import ContentStore, cid_from_bytes
from worldgym.validator.errors import ValidatorError

__all__ = [
    "FLOOR",
    "FULL_GAIN",
    "LINEAGE_DEPTH",
    "GainWeights",
    "read_weights_file",
    "weight_for_gain",
]

FLOOR = 2_000
FULL_GAIN = 0.10
LINEAGE_DEPTH = 8
_MAX_FILE_BYTES = 1 << 20


def read_weights_file(path: Path) -> dict[int, int]:
    """``{"env_id": weight, ...}`` from ``path``; weights in 0..10,000."""
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            raise ValidatorError(f"{path} is over 1 MiB; an env-weights file is a small JSON map")
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValidatorError(f"cannot read env weights from {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise ValidatorError(f'{path} must hold a JSON object {{"env_id": weight}}')
    out: dict[int, int] = {}
    for key, value in raw.items():
        if not (str(key).isdigit() and isinstance(value, int) and 0 <= value <= SCORE_SCALE):
            raise ValidatorError(
                f"{path}: {key!r}: {value!r} is not an environment id and a weight in 0..10000"
            )
        out[int(key)] = value
    return out


def weight_for_gain(gain: float | None, floor: int = FLOOR) -> int:
    """``floor`` plus the rest in proportion to ``gain / FULL_GAIN`` (clamped to 0..1)."""
    share = 0.0 if gain is None else min(1.0, max(0.0, gain / FULL_GAIN))
    return floor + round((SCORE_SCALE - floor) * share)


class GainWeights:
    """The default :data:`validator.loop.EnvWeights`: the refinery's measured gains (see above).

    ``loads(env_id, version)`` raises when this validator's gym refuses the
    environment; the loop passes :meth:`worldgym.validator.engine.BatchScorer.environment`.
    """

    def __init__(
        self,
        protocol: Protocol,
        store: ContentStore,
        loads: Callable[[int, int], Any],
        *,
        floor: int = FLOOR,
        overrides: dict[int, int] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.protocol = protocol
        self.store = store
        self.loads = loads
        self.floor = floor
        self.overrides = overrides or {}
        self.log = log
        self._metrics: dict[int, dict[str, Any] | None] = {}

    def __call__(self, epoch: int, env_ids: Sequence[int]) -> dict[int, int]:
        """Weights for the environments with batches in ``epoch``."""
        gains = self.gains()
        versions = {r.env_id: r.env_version for r in self.protocol.batches(epoch)}
        out: dict[int, int] = {}
        for env_id in env_ids:
            if env_id in self.overrides:
                out[env_id] = self.overrides[env_id]
                continue
            try:
                self.loads(env_id, versions.get(env_id, 1))
            except WorldGymError as exc:
                if self.log is not None:
                    self.log(f"environment {env_id} weighs 0: {exc}")
                out[env_id] = 0
                continue
            out[env_id] = weight_for_gain(gains.get(env_id), self.floor)
        return out

    def gains(self) -> dict[int, float]:
        """Each environment's last measured gain (candidate - parent pass@1), newest model first."""
        found: dict[int, float] = {}
        model_id = self.protocol.latest_model_id()
        for _ in range(LINEAGE_DEPTH):
            if model_id <= 0:
                break
            metrics = self._model_metrics(model_id)
            environments = (metrics or {}).get("eval", {}).get("environments", {})
            for key, entry in environments.items() if isinstance(environments, dict) else ():
                if not str(key).isdigit() or int(key) in found:
                    continue
                try:
                    gain = float(entry["candidate"]["pass_at_1"]) - float(
                        entry["parent"]["pass_at_1"]
                    )
                except (KeyError, TypeError, ValueError):
                    continue
                found[int(key)] = gain
            model_id -= 1
        return found

    def _model_metrics(self, model_id: int) -> dict[str, Any] | None:
        if model_id not in self._metrics:
            try:
                record = self.protocol.model(model_id)
                self._metrics[model_id] = checkpoint_metrics(
                    self.store, cid_from_bytes(record.checkpoint_cid), record.metrics_digest
                )
            except WorldGymError as exc:
                if self.log is not None:
                    self.log(f"model {model_id}'s metrics are unreadable, so not counted: {exc}")
                return None  # not cached: storage may come back
        return self._metrics[model_id]
