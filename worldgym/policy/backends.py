"""Choosing a backend: one :class:`~worldgym.policy.base.Policy` from a name and a checkpoint.

* ``transformers`` (the ``ml`` extra, CPU or GPU): sampling, scoring, and the
  full logits the validator's proof of rollout reads (:mod:`worldgym.policy.rollout`);
* ``vllm`` (the ``vllm`` extra, GPU hosts): sampling and scoring, fast;
* ``openai``: sampling and scoring through ``vllm serve`` running the
  protocol's logits processor (:mod:`worldgym.policy.openai_backend`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from worldgym.policy.base import Policy
from worldgym.policy.errors import BackendUnavailableError, PolicyError

__all__ = ["BACKENDS", "Backend", "load_policy"]

Backend = Literal["transformers", "vllm", "openai"]
BACKENDS: tuple[Backend, ...] = ("transformers", "vllm", "openai")


def load_policy(
    backend: Backend,
    model_dir: Path,
    *,
    device: str = "cpu",
    batch_size: int = 16,
    base_url: str | None = None,
    served_model: str | None = None,
    tensor_parallel_size: int = 1,
) -> Policy:
    """Build the chosen backend for the checkpoint in ``model_dir``.

    Each backend's packages are imported only when it is chosen: ``transformers``
    needs the ``ml`` extra, ``vllm`` the ``vllm`` extra (GPU hosts), and
    ``openai`` only httpx plus the checkpoint's tokenizer (``ml`` extra).
    """
    if backend == "transformers":
        from worldgym.policy.hf import TransformersPolicy

        return TransformersPolicy(model_dir, device=device, batch_size=batch_size)
    if backend == "vllm":
        from worldgym.policy.vllm_backend import VllmPolicy

        return VllmPolicy(model_dir, tensor_parallel_size=tensor_parallel_size)
    if backend == "openai":
        from worldgym.policy.openai_backend import OpenAIPolicy

        if not base_url:
            raise PolicyError(
                "the openai backend needs the server's URL: pass --base-url "
                "(e.g. http://127.0.0.1:8000/v1 for `vllm serve`)"
            )
        return OpenAIPolicy(base_url, model_dir, served_model=served_model)
    raise BackendUnavailableError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
