"""A tiny byte-level chat model made locally: for tests, the demo and the flywheel on a CPU.

No download: the tokenizer is built from the 256 byte symbols plus a few
special tokens (one token per byte, so any text round-trips), and the model is
a small Llama-architecture transformer initialised from a seed. It speaks a
ChatML-style template whose end-of-turn token is the end-of-sequence token.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from worldgym.policy.errors import BackendUnavailableError

__all__ = [
    "CHAT_TEMPLATE",
    "SPECIAL_TOKENS",
    "TinyModelConfig",
    "build_tiny_model",
    "build_tokenizer",
]

SPECIAL_TOKENS = ("<|pad|>", "<|im_start|>", "<|im_end|>")
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@dataclass(frozen=True)
class TinyModelConfig:
    """Shape of the tiny model (defaults: ~0.2 M parameters, fast on one CPU core)."""

    hidden_size: int = 64
    layers: int = 2
    heads: int = 4
    intermediate_size: int = 192
    max_positions: int = 1024
    initializer_range: float = 0.02


def build_tokenizer() -> object:
    """A byte-level ``PreTrainedTokenizerFast`` with the chat template and special tokens."""
    try:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers
        from transformers import PreTrainedTokenizerFast
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the tiny model needs the ml extra (pip install 'worldgym[ml]'): {exc}"
        ) from None
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {symbol: i for i, symbol in enumerate(alphabet)}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    pad, start, end = SPECIAL_TOKENS
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=core,
        pad_token=pad,
        eos_token=end,
        bos_token=start,
        additional_special_tokens=[start],
        padding_side="left",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(
    out_dir: Path, *, seed: int = 0, config: TinyModelConfig | None = None
) -> Path:
    """Create the tiny model and its tokenizer in ``out_dir`` (safetensors); return ``out_dir``."""
    try:
        import torch
        from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the tiny model needs the ml extra (pip install 'worldgym[ml]'): {exc}"
        ) from None
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    shape = config or TinyModelConfig()
    tokenizer = build_tokenizer()
    vocab_size = len(tokenizer)  # type: ignore[arg-type]
    model_config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.heads,
        max_position_embeddings=shape.max_positions,
        initializer_range=shape.initializer_range,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,  # type: ignore[attr-defined]
        bos_token_id=tokenizer.bos_token_id,  # type: ignore[attr-defined]
        eos_token_id=tokenizer.eos_token_id,  # type: ignore[attr-defined]
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(model_config)
    model.generation_config = GenerationConfig(  # type: ignore[no-untyped-call]
        pad_token_id=tokenizer.pad_token_id,  # type: ignore[attr-defined]
        eos_token_id=tokenizer.eos_token_id,  # type: ignore[attr-defined]
        bos_token_id=tokenizer.bos_token_id,  # type: ignore[attr-defined]
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)  # type: ignore[attr-defined]
    return out_dir
