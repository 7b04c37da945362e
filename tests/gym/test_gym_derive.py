"""Task derivation: the contract's hash, golden vectors, item seeds and composite picks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from gym_golden_helper import MINER, SEED, digests
from hypothesis import given, settings
from hypothesis import strategies as st

from worldgym import gym
from worldgym.gym.derive import abi_words, item_seed, pick_value, pick_weighted, task_seed
from worldgym.gym.environments import example_names, example_path
from worldgym.gym.errors import DerivationError

MAX = 2**256 - 1

# (seed, env_id, version, miner, index) -> keccak256(abi.encode(...)), as WorldGym.sol computes it.
GOLDEN_SEEDS = [
    (
        ("0x" + "00" * 32, 0, 0, "0x" + "00" * 20, 0),
        "dfded4ed5ac76ba7379cfe7b3b0f53e768dca8d45a34854e649cfc3c18cbd9cd",
    ),
    ((SEED, 1, 1, MINER, 0), "a44e124cf3862d017bcebf0bd2f73b9fbaa26576b31fd4f1983ff6549d17a247"),
    ((SEED, 1, 1, MINER, 1), "6863dea6cc348b5875328d1e8b79cb8beee0f6c14f8c2e6c23844f7481d1c2fc"),
    ((SEED, 7, 3, MINER, MAX), "f5392152e9c8961eb25bba7fe325ec96afadc882b63d09cb87d72f6c5626d6db"),
    (
        ("0x" + "ff" * 32, MAX, MAX, "0x" + "ff" * 20, 2**128 + 5),
        "7d6901ffbb045017c8a3690b59f924761f68957936116c75bc41f8f0bd8b851f",
    ),
]

# sha256([source, question, answer])[:16] of tasks 0, 1, 2 at (SEED, env 1, version 1, MINER).
GOLDEN_TASKS = {
    "algebra": ["4b0f9d5dcf841017", "315f61c89371fa70", "cd03fd12ab765363"],
    "arithmetic": ["f2a09b1e99af8338", "87928b365385b172", "20e68c576f1c6849"],
    "code": ["8a7ef41855f21592", "66267ff8d299765e", "17aaba76e56e8f42"],
    "logic": ["43f0be20cd31ac42", "ec10bee37a259197", "c5e86e8ebcd137ab"],
    "mixed": ["6af9053c1bf1fa65", "5a2c5df0729ae1e8", "7130eea106be943f"],
    "puzzle": ["fe4d4c7ed466b7fd", "106ec5f973a645e0", "3dea9c254e10476a"],
    "sums": ["63d467d4df53c7b2", "7447e57f1dbd2196", "9b73950b91b3e44d"],
    "words": ["600a568167d5720b", "4a29b548158582f0", "07bee6e13c6d3b09"],
}


def _reference(seed: str, env_id: int, version: int, miner: str, index: int) -> bytes:
    words = encode(
        ["bytes32", "uint256", "uint256", "address", "uint256"],
        [bytes.fromhex(seed[2:]), env_id, version, miner, index],
    )
    return bytes(keccak(words))


@pytest.mark.parametrize(("inputs", "expected"), GOLDEN_SEEDS)
def test_task_seed_matches_golden_vectors_and_eth_abi(
    inputs: tuple[Any, ...], expected: str
) -> None:
    assert task_seed(*inputs).hex() == expected
    assert task_seed(*inputs) == _reference(*inputs)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    seed=st.binary(min_size=32, max_size=32),
    env_id=st.integers(0, MAX),
    version=st.integers(0, MAX),
    miner=st.binary(min_size=20, max_size=20),
    index=st.integers(0, MAX),
)
def test_abi_words_equal_eth_abi_encode(
    seed: bytes, env_id: int, version: int, miner: bytes, index: int
) -> None:
    address = "0x" + miner.hex()
    expected = encode(
        ["bytes32", "uint256", "uint256", "address", "uint256"],
        [seed, env_id, version, address, index],
    )
    assert abi_words(seed, env_id, version, address, index) == expected
    assert abi_words(seed, env_id, version, miner, index) == expected


def test_seed_and_address_forms_agree() -> None:
    as_hex = task_seed(SEED, 1, 1, MINER, 5)
    assert task_seed(bytes.fromhex(SEED[2:]), 1, 1, MINER.lower(), 5) == as_hex
    assert task_seed(SEED[2:], 1, 1, MINER.upper().replace("0X", "0x"), 5) == as_hex


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (("0x1234", 1, 1, MINER, 0), "seed must be 32 bytes"),
        ((b"\x00" * 31, 1, 1, MINER, 0), "32 bytes"),
        ((SEED, -1, 1, MINER, 0), "env_id must be in [0, 2**256)"),
        ((SEED, 1, 2**256, MINER, 0), "version must be in [0, 2**256)"),
        ((SEED, 1, 1, MINER, 2**256), "index must be in [0, 2**256)"),
        ((SEED, 1, 1, "0x1234", 0), "miner must be an address"),
        ((SEED, 1, 1, MINER, True), "index must be an integer"),
        ((SEED, 1, 1, MINER, "7"), "index must be an integer"),
    ],
)
def test_bad_inputs_raise_derivation_error(inputs: tuple[Any, ...], message: str) -> None:
    with pytest.raises(DerivationError, match=re.escape(message)):
        task_seed(*inputs)


def test_item_seed_and_pick_read_documented_bytes() -> None:
    seed = bytes(range(32))
    assert item_seed(seed) == 0x00010203
    assert pick_value(seed) == 0x0405060708090A0B


def test_pick_weighted_is_exact_at_boundaries() -> None:
    # v / 2**64 < w0 / total picks part 0; at exactly the boundary the next part is picked.
    def seed_for(value: int) -> bytes:
        return bytes(4) + value.to_bytes(8, "big") + bytes(20)

    weights = [1.0, 3.0]
    boundary = 2**64 // 4
    assert pick_weighted(seed_for(boundary - 1), weights) == 0
    assert pick_weighted(seed_for(boundary), weights) == 1
    assert pick_weighted(seed_for(2**64 - 1), weights) == 1
    assert pick_weighted(seed_for(0), [0.1, 0.2, 0.7]) == 0


def test_pick_weighted_frequencies_follow_weights() -> None:
    weights = [2.0, 1.0, 1.0]
    counts = [0, 0, 0]
    for index in range(4000):
        counts[pick_weighted(task_seed(SEED, 1, 1, MINER, index), weights)] += 1
    shares = [Fraction(c, 4000) for c in counts]
    assert abs(shares[0] - Fraction(1, 2)) < Fraction(1, 20)
    assert abs(shares[1] - Fraction(1, 4)) < Fraction(1, 20)


def test_pick_weighted_rejects_bad_weights() -> None:
    with pytest.raises(DerivationError):
        pick_weighted(bytes(32), [])
    with pytest.raises(DerivationError):
        pick_weighted(bytes(32), [1.0, 0.0])


@pytest.mark.parametrize("name", sorted(GOLDEN_TASKS))
def test_example_tasks_match_golden_vectors(name: str) -> None:
    assert digests([name]) == {name: GOLDEN_TASKS[name]}


def test_every_example_has_golden_vectors() -> None:
    assert sorted(GOLDEN_TASKS) == example_names()


def test_tasks_are_identical_in_another_process_with_another_hash_seed() -> None:
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from gym_golden_helper import digests; print(json.dumps(digests()))"
    )
    helper = Path(__file__).with_name("gym_golden_helper.py")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", script, str(helper.parent)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == GOLDEN_TASKS


def test_index_changes_the_task_and_miner_changes_the_task() -> None:
    env = gym.load_environment(example_path("arithmetic"))
    base = env.task(SEED, 1, 1, MINER, 0)
    assert env.task(SEED, 1, 1, MINER, 0) == base
    assert env.task(SEED, 1, 1, "0x" + "11" * 20, 0).task_seed != base.task_seed
    assert env.task(SEED, 1, 2, MINER, 0).task_seed != base.task_seed
    huge = env.task(SEED, 1, 1, MINER, MAX)
    assert huge.index == MAX
    assert huge.question
