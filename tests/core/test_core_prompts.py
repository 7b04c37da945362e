"""Chat prompt encoding: the template, ready for the answer, whatever transformers returns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from worldgym.core.prompts import chat_prompt_ids, chat_prompt_text

pytest.importorskip("transformers")

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2=?"}]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from transformers import AutoTokenizer

    from worldgym.policy.tiny import build_tiny_model

    model_dir: Path = build_tiny_model(tmp_path_factory.mktemp("tiny") / "m", seed=3)
    return AutoTokenizer.from_pretrained(model_dir)


def test_ids_are_the_rendered_template_tokenized(tokenizer: Any) -> None:
    text = chat_prompt_text(tokenizer, MESSAGES)
    closed = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=False, tokenize=False)
    assert text.startswith(closed)
    assert len(text) > len(closed)  # the assistant's turn is opened
    assert "2+2=?" in text
    expected = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert chat_prompt_ids(tokenizer, MESSAGES) == expected


class _ListTokenizer:
    """transformers 4.x returned a plain list from ``apply_chat_template(tokenize=True)``."""

    def apply_chat_template(self, messages: Any, **kwargs: Any) -> Any:
        assert kwargs == {"add_generation_prompt": True, "tokenize": True}
        return [1, 2, 3]


class _EncodingTokenizer(_ListTokenizer):
    """transformers 5 returns a ``BatchEncoding`` (a mapping with ``input_ids``)."""

    def apply_chat_template(self, messages: Any, **kwargs: Any) -> Any:
        return {"input_ids": super().apply_chat_template(messages, **kwargs), "attention_mask": [1]}


@pytest.mark.parametrize("tok", [_ListTokenizer(), _EncodingTokenizer()])
def test_both_return_shapes_give_plain_ints(tok: Any) -> None:
    assert chat_prompt_ids(tok, MESSAGES) == [1, 2, 3]
