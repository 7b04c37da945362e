"""Answer extraction: each kind on ordinary, missing, nested and huge input."""

from __future__ import annotations

import time

import pytest

from worldgym.gym.extract import boxed, code_block, make_extractor, tag
from worldgym.gym.spec import FullExtract, RegexExtract


def test_tag_takes_the_last_pair_and_strips() -> None:
    assert tag("<answer> 1 </answer> then <answer>\n2\n</answer>") == "2"
    assert tag("<answer>a <answer>b</answer>") == "b"
    assert tag("<final>x</final>", "final") == "x"


@pytest.mark.parametrize(
    "text", ["", "no tags", "<answer>open", "close</answer>", "</answer><answer>"]
)
def test_tag_missing_is_none(text: str) -> None:
    assert tag(text) is None


def test_boxed_balances_braces_and_takes_the_last() -> None:
    assert boxed(r"\boxed{1} and \boxed{\frac{1}{2}}") == r"\frac{1}{2}"
    assert boxed(r"\fbox{x^{2}}") == "x^{2}"
    assert boxed(r"\boxed{\frac{1}{2}") is None
    assert boxed("no box") is None


def test_code_block_prefers_the_language_and_the_last_block() -> None:
    text = "```python\ndef a(): pass\n```\ntext\n```\nplain\n```\n```python\ndef b(): pass\n```"
    assert code_block(text) == "def b(): pass"
    assert code_block("```\nonly plain\n```") == "only plain"
    assert code_block("```python\nunclosed") is None
    assert code_block("```python no newline```") is None


def test_regex_and_full() -> None:
    regex = make_extractor(RegexExtract(kind="regex", pattern=r"Answer:\s*(\S+)", group=1))
    assert regex("Answer: 1\nAnswer: 42") == "42"
    assert regex("nothing") is None
    out_of_range = make_extractor(RegexExtract(kind="regex", pattern=r"Answer", group=3))
    assert out_of_range("Answer") is None
    full = make_extractor(FullExtract(kind="full"))
    assert full("  7 \n") == "7"
    assert full("   ") is None


@pytest.mark.parametrize(
    "text",
    [
        "<answer>" * 200_000,
        "</answer>" * 200_000,
        "\\boxed{" * 200_000,
        "{" * 500_000 + "\\boxed{" + "{" * 500_000,
        "```" * 300_000,
        "```python\n" * 200_000,
    ],
)
def test_extractors_are_linear_on_adversarial_input(text: str) -> None:
    start = time.perf_counter()
    tag(text)
    boxed(text)
    code_block(text)
    assert time.perf_counter() - start < 2.0
