"""The protocol's sampler inside vLLM: a logits processor that makes vLLM draw Gumbel-max samples.

vLLM runs the model; this processor turns each request's logits into the
perturbed scores of :mod:`worldgym.policy.gumbel` (the request's key, its position =
the number of tokens it has generated so far, the environment's temperature
and top-p), and the request asks for ``temperature = 0``, so vLLM's sampler
takes their arg-max: the one sample the chain allows. vLLM's log-probabilities
stay the raw model's (its default ``logprobs_mode``), which is what a trace
records.

Load it in the engine (offline: ``LLM(..., logits_processors=[...])``, which
:class:`worldgym.policy.vllm_backend.VllmPolicy` does) or in a server::

    VLLM_USE_V2_MODEL_RUNNER=0 vllm serve MODEL_DIR \\
        --logits-processors worldgym.policy.vllm_gumbel:GumbelMaxLogitsProcessor

and send each sample as its own request with ``temperature: 0`` and
``vllm_xargs`` from :func:`request_args` (the ``openai`` backend does). The
class targets vLLM's V1 logits-processor interface
(``vllm.v1.sample.logits_processor.LogitsProcessor``); all of its logic is in
:class:`GumbelRows`, which has no vLLM dependency and is tested on a CPU by
replaying vLLM's batch updates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from worldgym.policy.gumbel import SampleKey, gumbel_torch, perturbed_scores

__all__ = ["ARG_PREFIX", "GumbelRows", "RowState", "request_args"]

ARG_PREFIX = "worldgym_"


def request_args(key: SampleKey, temperature: float, top_p: float) -> dict[str, Any]:
    """The per-request custom arguments (``extra_args`` / ``vllm_xargs``) for one sample."""
    return {
        f"{ARG_PREFIX}k0": key.k0,
        f"{ARG_PREFIX}k1": key.k1,
        f"{ARG_PREFIX}temperature": temperature,
        f"{ARG_PREFIX}top_p": top_p,
    }


@dataclass
class RowState:
    """One request's sampling state: its key, settings, and its live list of output tokens."""

    key: SampleKey
    temperature: float
    top_p: float
    output: Sequence[int]


def _parse(args: Mapping[str, Any] | None, output: Sequence[int]) -> RowState | None:
    if not args or f"{ARG_PREFIX}k0" not in args:
        return None
    try:
        key = SampleKey(int(args[f"{ARG_PREFIX}k0"]), int(args[f"{ARG_PREFIX}k1"]))
        temperature = float(args[f"{ARG_PREFIX}temperature"])
        top_p = float(args[f"{ARG_PREFIX}top_p"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed {ARG_PREFIX}* request arguments: {exc!r}") from None
    if not (0 <= key.k0 < 2**32 and 0 <= key.k1 < 2**32):
        raise ValueError("worldgym sample key words must be 32-bit")
    if not (0.0 <= temperature <= 10.0 and 0.0 < top_p <= 1.0):
        raise ValueError(f"worldgym sampling settings out of range: T={temperature} p={top_p}")
    return RowState(key, temperature, top_p, output)


class GumbelRows:
    """The persistent batch's rows that sample with the protocol's noise, and how to apply it.

    Mirrors vLLM's batch bookkeeping: requests are added at a row index,
    removed, and moved (one way, or swapped) between rows; :meth:`apply`
    rewrites the logits of every WorldGym row in place.
    """

    def __init__(self) -> None:
        self.rows: dict[int, RowState] = {}

    @staticmethod
    def validate(args: Mapping[str, Any] | None) -> None:
        """Raise ValueError for malformed WorldGym arguments (before a request is admitted)."""
        _parse(args, ())

    def add(self, index: int, args: Mapping[str, Any] | None, output: Sequence[int]) -> None:
        """A request entered row ``index`` (``output``: its live list of generated tokens)."""
        state = _parse(args, output)
        if state is None:
            self.rows.pop(index, None)
        else:
            self.rows[index] = state

    def remove(self, index: int) -> None:
        """The request in row ``index`` left the batch."""
        self.rows.pop(index, None)

    def move(self, source: int, target: int, *, swap: bool) -> None:
        """A request moved from ``source`` to ``target`` (both ways when ``swap``)."""
        a, b = self.rows.pop(source, None), self.rows.pop(target, None)
        if a is not None:
            self.rows[target] = a
        if swap and b is not None:
            self.rows[source] = b

    def apply(self, logits: Any) -> Any:
        """Replace each WorldGym row's logits by its Gumbel-max scores (arg-max = the sample)."""
        import torch

        for index, state in self.rows.items():
            if state.temperature == 0.0:
                continue  # greedy: the arg-max of the logits themselves
            key = torch.tensor([[state.key.k0, state.key.k1]], device=logits.device)
            position = torch.tensor([len(state.output)], device=logits.device)
            noise = gumbel_torch(key, position, logits.shape[-1])
            row = logits[index : index + 1]
            logits[index : index + 1] = perturbed_scores(
                row, noise, state.temperature, state.top_p
            ).to(logits.dtype)
        return logits


@cache
def _vllm_processor_class() -> type:
    """Build the vLLM subclass (imports vLLM: GPU hosts with the ``vllm`` extra)."""
    from vllm.v1.sample.logits_processor import LogitsProcessor, MoveDirectionality

    class GumbelMaxLogitsProcessor(LogitsProcessor):  # type: ignore[misc]
        """vLLM adapter around :class:`GumbelRows`."""

        @classmethod
        def validate_params(cls, params: Any) -> None:
            GumbelRows.validate(getattr(params, "extra_args", None))

        def __init__(self, vllm_config: Any, device: Any, is_pin_memory: bool) -> None:
            del vllm_config, device, is_pin_memory
            self._rows = GumbelRows()

        def is_argmax_invariant(self) -> bool:
            return False  # it decides the arg-max: greedy requests must see it

        def update_state(self, batch_update: Any) -> None:
            if batch_update is None:
                return
            for index in batch_update.removed:
                self._rows.remove(index)
            for added in batch_update.added:  # (index, params, [prompt ids,] output ids)
                index, params, output = added[0], added[1], added[-1]
                self._rows.add(index, getattr(params, "extra_args", None), output)
            for source, target, direction in batch_update.moved:
                self._rows.move(source, target, swap=direction == MoveDirectionality.SWAP)

        def apply(self, logits: Any) -> Any:
            return self._rows.apply(logits)

    return GumbelMaxLogitsProcessor


def __getattr__(name: str) -> Any:
    if name == "GumbelMaxLogitsProcessor":
        return _vllm_processor_class()
    raise AttributeError(f"module 'worldgym.policy.vllm_gumbel' has no attribute {name!r}")
