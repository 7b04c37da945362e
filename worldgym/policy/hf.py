"""The ``transformers`` backend: verifiable sampling with left padding, teacher-forced logits.

Every sample is drawn by Gumbel-max with the noise of its key
(:mod:`worldgym.policy.gumbel`): a logits processor turns each step's logits into the
perturbed scores and generation takes their arg-max. Generation records, for
every sampled token, the raw log-probability the model gave it
(``output_logits``: log-softmax at temperature 1, before top-p), which is what
:meth:`TransformersPolicy.score` recomputes from one forward pass over the
prompt and the completion. :meth:`TransformersPolicy.teacher_forced` gives a
validator the logits of many traces, batched, one trace at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from worldgym.core.prompts import chat_prompt_ids
from worldgym.core.schemas import Sampling
from worldgym.policy.base import Completion, Messages, sample_keys
from worldgym.policy.errors import BackendUnavailableError, PolicyError
from worldgym.policy.gumbel import (
    SampleKey,
    gumbel_torch,
    key_tensor,
    perturbed_scores,
)

__all__ = ["TransformersPolicy"]


def _import_ml() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the transformers backend needs the ml extra (pip install 'worldgym[ml]'): {exc}"
        ) from None
    # Our own bars show progress; transformers' would interleave with them.
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return torch, transformers


class TransformersPolicy:
    """A local checkpoint run with ``transformers`` on CPU or GPU."""

    def __init__(
        self,
        model_dir: Path,
        *,
        device: str = "cpu",
        batch_size: int = 16,
        dtype: str = "float32",
    ) -> None:
        """Load ``model_dir`` on ``device`` in ``dtype`` (``float32``, or ``bfloat16`` to mine
        faster on hardware that has it; validators score in float32)."""
        torch, transformers = _import_ml()
        if dtype not in ("float32", "bfloat16", "float16"):
            raise PolicyError(f"dtype must be float32, bfloat16 or float16, not {dtype!r}")
        if not (Path(model_dir) / "config.json").is_file():
            raise PolicyError(f"{model_dir} is not a model directory (no config.json)")
        self.model_dir = Path(model_dir)
        self.device = device
        self.batch_size = max(1, batch_size)
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(
                model_dir, padding_side="left"
            )
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                model_dir, dtype=getattr(torch, dtype)
            ).to(device)
        except (OSError, ValueError) as exc:
            raise PolicyError(f"cannot load the model in {model_dir}: {exc}") from None
        self.model.eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._torch = torch
        self._transformers = transformers

    @property
    def name(self) -> str:
        """``transformers:<model dir name>@<device>``."""
        return f"transformers:{self.model_dir.name}@{self.device}"

    @property
    def vocab_size(self) -> int:
        """The width of the model's logits: every token id is below it."""
        return int(self.model.config.vocab_size)

    @property
    def eos_token_id(self) -> int:
        """The id that ends a completion."""
        return int(self.tokenizer.eos_token_id)

    def prompt_ids(self, prompt: Messages) -> list[int]:
        """Token ids of the chat-formatted prompt, ready for the assistant's turn."""
        return chat_prompt_ids(self.tokenizer, prompt)

    def decode(self, tokens: Sequence[int]) -> str:
        """The text of a completion's tokens (special tokens dropped)."""
        return str(self.tokenizer.decode(list(tokens), skip_special_tokens=True))

    # -- sampling -----------------------------------------------------------------------

    def generate(
        self,
        prompts: Sequence[Messages],
        *,
        n: int,
        sampling: Sampling,
        keys: Sequence[Sequence[SampleKey]] | None = None,
        seed: int = 0,
    ) -> list[list[Completion]]:
        """``n`` completions for each prompt, batched ``batch_size`` sequences at a time.

        Completion ``j`` of prompt ``i`` is the Gumbel-max sample with key
        ``keys[i][j]`` (the protocol's keys, derived from the chain); without
        keys they are derived from ``seed`` (evaluation, benchmarks).
        """
        keys = sample_keys(keys, seed, len(prompts), n)
        flat = [(p, k) for p, group in zip(prompts, keys, strict=True) for k in group]
        out: list[Completion] = []
        for start in range(0, len(flat), self.batch_size):
            out.extend(self._generate_chunk(flat[start : start + self.batch_size], sampling))
        return [out[i * n : (i + 1) * n] for i in range(len(prompts))]

    def _generate_chunk(
        self, items: Sequence[tuple[Messages, SampleKey]], sampling: Sampling
    ) -> list[Completion]:
        torch, transformers = self._torch, self._transformers
        ids = [self.prompt_ids(p) for p, _ in items]
        width = max(len(i) for i in ids)
        pad = int(self.tokenizer.pad_token_id)
        input_ids = torch.tensor([[pad] * (width - len(i)) + i for i in ids], device=self.device)
        mask = torch.tensor(
            [[0] * (width - len(i)) + [1] * len(i) for i in ids], device=self.device
        )
        processor = _GumbelMax(key_tensor([k for _, k in items], self.device), width, sampling)
        config = transformers.GenerationConfig(
            do_sample=False,
            num_beams=1,
            max_new_tokens=sampling.max_new_tokens,
            pad_token_id=pad,
            eos_token_id=self.eos_token_id,
            return_dict_in_generate=True,
            output_logits=True,
        )
        with torch.inference_mode():
            result = self.model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                generation_config=config,
                logits_processor=transformers.LogitsProcessorList([processor]),
            )
        new = result.sequences[:, width:]
        steps = torch.stack(result.logits, dim=1).float().log_softmax(dim=-1)
        chosen = steps.gather(-1, new[:, : steps.shape[1]].unsqueeze(-1)).squeeze(-1)
        return [
            self._completion(new[row].tolist(), chosen[row].tolist()) for row in range(len(ids))
        ]

    def _completion(self, tokens: list[int], logprobs: list[float]) -> Completion:
        eos = self.eos_token_id
        if eos in tokens:
            end = tokens.index(eos) + 1
            return Completion(self.decode(tokens[:end]), tokens[:end], logprobs[:end], "stop")
        return Completion(self.decode(tokens), tokens, logprobs[: len(tokens)], "length")

    # -- scoring ------------------------------------------------------------------------

    def score(self, items: Sequence[tuple[Messages, Sequence[int]]]) -> list[list[float]]:
        """Raw log-probabilities of each item's tokens after its prompt (teacher forcing,
        ``batch_size`` items per forward pass)."""
        torch = self._torch
        out = []
        for (_, tokens), logits in zip(items, self.teacher_forced(items), strict=True):
            logp = logits.log_softmax(dim=-1)
            index = torch.tensor(list(tokens), device=logp.device, dtype=torch.long).unsqueeze(-1)
            out.append([float(x) for x in logp.gather(-1, index).squeeze(-1).tolist()])
        return out

    def teacher_forced(self, items: Sequence[tuple[Messages, Sequence[int]]]) -> Iterator[Any]:
        """The float32 logits ``[len(tokens), vocab]`` predicting each trace's tokens, in order.

        Traces are run ``batch_size`` at a time, right-padded (a causal model's
        logits at real positions do not see the padding), and yielded one at a
        time so a validator never holds more than one batch of logits.
        """
        torch = self._torch
        vocab = int(self.model.config.vocab_size)
        pad = int(self.tokenizer.pad_token_id)
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            heads = [self.prompt_ids(prompt) for prompt, _ in chunk]
            for _, tokens in chunk:
                if any(not 0 <= t < vocab for t in tokens):
                    raise PolicyError(f"a token id is outside the model's vocabulary of {vocab}")
            rows = [h + list(t) for h, (_, t) in zip(heads, chunk, strict=True)]
            width = max(len(r) for r in rows)
            seq = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=self.device)
            mask = torch.tensor(
                [[1] * len(r) + [0] * (width - len(r)) for r in rows], device=self.device
            )
            with torch.inference_mode():
                logits = self.model(input_ids=seq, attention_mask=mask).logits.float()
            for row, (head, (_, tokens)) in enumerate(zip(heads, chunk, strict=True)):
                yield logits[row, len(head) - 1 : len(head) - 1 + len(tokens)]


class _GumbelMax:
    """A transformers logits processor: each step's logits become Gumbel-max scores.

    Generation then takes their arg-max (``do_sample=False``), which is the
    sample the keys fix. Rows are the batch's sequences; all share one prompt
    width (left padding), so the step's position is ``len(input_ids) - width``.
    """

    def __init__(self, keys: Any, width: int, sampling: Sampling) -> None:
        self.keys = keys
        self.width = width
        self.temperature = sampling.temperature
        self.top_p = sampling.top_p

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self.temperature == 0.0:
            return scores
        step = input_ids.shape[1] - self.width
        positions = torch.full((scores.shape[0],), step, dtype=torch.int64, device=scores.device)
        noise = gumbel_torch(self.keys, positions, scores.shape[-1])
        return perturbed_scores(scores, noise, self.temperature, self.top_p)
