"""Tiny models built once per session (byte-level, seconds on a CPU; no downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from worldgym.policy.hf import TransformersPolicy
from worldgym.policy.tiny import TinyModelConfig, build_tiny_model

# A sharper initialisation than the default, so two models disagree clearly.
SHARP = TinyModelConfig(initializer_range=0.3)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "a", seed=1, config=SHARP)


@pytest.fixture(scope="session")
def other_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "b", seed=2, config=SHARP)


@pytest.fixture(scope="session")
def tiny(tiny_dir: Path) -> TransformersPolicy:
    return TransformersPolicy(tiny_dir, batch_size=4)


@pytest.fixture(scope="session")
def other(other_dir: Path) -> TransformersPolicy:
    return TransformersPolicy(other_dir, batch_size=4)
