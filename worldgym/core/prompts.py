"""A chat prompt as the model sees it: the checkpoint's own chat template, ready for its answer.

One encoding for everyone who turns a prompt into tokens (the miner's
backends, the validator's proof of rollout, the refinery's trainers), so a
token sampled by one is the token checked and trained on by the others.
transformers 5 returns a ``BatchEncoding`` from ``apply_chat_template(...,
tokenize=True)`` where 4.x returned a list; both are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["chat_prompt_ids", "chat_prompt_text"]


def chat_prompt_ids(tokenizer: Any, messages: Sequence[Mapping[str, str]]) -> list[int]:
    """Token ids of ``messages`` followed by the assistant's turn opening."""
    ids = tokenizer.apply_chat_template(
        [dict(m) for m in messages], add_generation_prompt=True, tokenize=True
    )
    if isinstance(ids, Mapping) or hasattr(ids, "input_ids"):
        ids = ids["input_ids"]
    return [int(i) for i in ids]


def chat_prompt_text(tokenizer: Any, messages: Sequence[Mapping[str, str]]) -> str:
    """The same prompt as text (for trainers that tokenize it themselves)."""
    text = tokenizer.apply_chat_template(
        [dict(m) for m in messages], add_generation_prompt=True, tokenize=False
    )
    return str(text)
