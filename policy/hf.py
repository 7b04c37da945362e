"""The ``transformers`` backend: batched sampling with left padding, and teacher-forced scoring.

Generation records, for every sampled token, the raw log-probability the model
gave it (``output_logits``, before temperature and top-p), which is what
:meth:`TransformersPolicy.score` recomputes from one forward pass over the
prompt and the completion; validators and the tests compare the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from client.schemas import Sampling
from policy.base import Completion, Messages
from policy.errors import BackendUnavailableError, PolicyError

__all__ = ["TokenStats", "TransformersPolicy"]


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


class TokenStats:
    """Per-token statistics of a completion under the model (see :meth:`TransformersPolicy.stats`).

    ``logprobs``: raw log p(token); ``expected`` and ``variance``: mean and
    variance of log p(x) when x is drawn from the *sampling* distribution
    (temperature and top-p applied); ``in_nucleus``: whether the token could
    have been drawn at all under top-p; ``top``: log-probability of the most
    likely token (for greedy decoding).
    """

    def __init__(
        self,
        logprobs: list[float],
        expected: list[float],
        variance: list[float],
        in_nucleus: list[bool],
        top: list[float],
    ) -> None:
        self.logprobs = logprobs
        self.expected = expected
        self.variance = variance
        self.in_nucleus = in_nucleus
        self.top = top


class TransformersPolicy:
    """A local checkpoint run with ``transformers`` on CPU or GPU."""

    def __init__(self, model_dir: Path, *, device: str = "cpu", batch_size: int = 16) -> None:
        torch, transformers = _import_ml()
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
                model_dir, dtype=torch.float32
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
    def eos_token_id(self) -> int:
        """The id that ends a completion."""
        return int(self.tokenizer.eos_token_id)

    def prompt_ids(self, prompt: Messages) -> list[int]:
        """Token ids of the chat-formatted prompt, ready for the assistant's turn."""
        ids = self.tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "input_ids"):
            ids = ids["input_ids"]
        return [int(i) for i in ids]

    def decode(self, tokens: Sequence[int]) -> str:
        """The text of a completion's tokens (special tokens dropped)."""
        return str(self.tokenizer.decode(list(tokens), skip_special_tokens=True))

    # -- sampling -----------------------------------------------------------------------

    def generate(
        self, prompts: Sequence[Messages], *, n: int, sampling: Sampling
    ) -> list[list[Completion]]:
        """``n`` completions for each prompt, batched ``batch_size`` sequences at a time.

        Seeded once per call from ``sampling.seed``, so the same call on the
        same machine returns the same completions.
        """
        if n < 1:
            raise PolicyError(f"n must be at least 1, not {n}")
        self._torch.manual_seed(sampling.seed)  # sampling draws from torch's generator only
        flat = [p for p in prompts for _ in range(n)]
        out: list[Completion] = []
        for start in range(0, len(flat), self.batch_size):
            out.extend(self._generate_chunk(flat[start : start + self.batch_size], sampling))
        return [out[i * n : (i + 1) * n] for i in range(len(prompts))]

    def _generate_chunk(self, prompts: Sequence[Messages], sampling: Sampling) -> list[Completion]:
        torch = self._torch
        ids = [self.prompt_ids(p) for p in prompts]
        width = max(len(i) for i in ids)
        pad = int(self.tokenizer.pad_token_id)
        input_ids = torch.tensor([[pad] * (width - len(i)) + i for i in ids], device=self.device)
        mask = torch.tensor(
            [[0] * (width - len(i)) + [1] * len(i) for i in ids], device=self.device
        )
        greedy = sampling.temperature == 0.0
        kwargs: dict[str, Any] = {"do_sample": not greedy}
        if not greedy:
            kwargs.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
        with torch.inference_mode():
            result = self.model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                max_new_tokens=sampling.max_new_tokens,
                return_dict_in_generate=True,
                output_logits=True,
                pad_token_id=pad,
                eos_token_id=self.eos_token_id,
                **kwargs,
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

    def _logits(self, prompt: Messages, tokens: Sequence[int]) -> Any:
        """Logits predicting each of ``tokens`` after the prompt (float32, [len(tokens), V])."""
        torch = self._torch
        head = self.prompt_ids(prompt)
        vocab = int(self.model.config.vocab_size)
        if any(not 0 <= t < vocab for t in tokens):
            raise PolicyError(f"a token id is outside the model's vocabulary of {vocab}")
        seq = torch.tensor([head + list(tokens)], device=self.device)
        with torch.inference_mode():
            logits = self.model(input_ids=seq).logits[0].float()
        return logits[len(head) - 1 : len(head) - 1 + len(tokens)]

    def score(self, prompt: Messages, tokens: Sequence[int]) -> list[float]:
        """Raw log-probabilities of ``tokens`` completing ``prompt`` (one forward pass)."""
        if not tokens:
            return []
        torch = self._torch
        logp = self._logits(prompt, tokens).log_softmax(dim=-1)
        index = torch.tensor(list(tokens), device=logp.device).unsqueeze(-1)
        return [float(x) for x in logp.gather(-1, index).squeeze(-1).tolist()]

    def stats(self, prompt: Messages, tokens: Sequence[int], sampling: Sampling) -> TokenStats:
        """:class:`TokenStats` of ``tokens`` under this model and the sampling settings."""
        torch = self._torch
        if not tokens:
            return TokenStats([], [], [], [], [])
        logits = self._logits(prompt, tokens)
        logp = logits.log_softmax(dim=-1)
        index = torch.tensor(list(tokens), device=logp.device).unsqueeze(-1)
        chosen = logp.gather(-1, index).squeeze(-1)
        top = logp.max(dim=-1).values
        if sampling.temperature == 0.0:
            q = torch.nn.functional.one_hot(logp.argmax(dim=-1), logp.shape[-1]).float()
            keep = q > 0
        else:
            q = (logits / sampling.temperature).softmax(dim=-1)
            keep = _nucleus(torch, q, sampling.top_p)
            q = torch.where(keep, q, torch.zeros_like(q))
            q = q / q.sum(dim=-1, keepdim=True)
        safe = torch.where(keep, logp, torch.zeros_like(logp))
        expected = (q * safe).sum(dim=-1)
        variance = (q * (safe - expected.unsqueeze(-1)) ** 2).sum(dim=-1)
        in_nucleus = keep.gather(-1, index).squeeze(-1)
        return TokenStats(
            chosen.tolist(), expected.tolist(), variance.tolist(), in_nucleus.tolist(), top.tolist()
        )


def _nucleus(torch: Any, probs: Any, top_p: float) -> Any:
    """Mask of the tokens top-p sampling may draw (the smallest set with mass >= top_p).

    A small slack keeps tokens at the boundary that float rounding on another
    device could have let in.
    """
    if top_p >= 1.0:
        return torch.ones_like(probs, dtype=torch.bool)
    ordered, order = probs.sort(dim=-1, descending=True)
    before = ordered.cumsum(dim=-1) - ordered
    keep_sorted = before < min(1.0, top_p + 1e-3)
    keep = torch.zeros_like(keep_sorted)
    return keep.scatter(-1, order, keep_sorted)
