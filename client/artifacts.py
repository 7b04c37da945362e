"""Compiled contract artifacts (ABI + bytecode) shipped inside the package.

``make artifacts`` compiles ``contracts/src`` with forge and writes one JSON file
per deployable contract to ``client/artifacts/``; the Python package loads them
at run time, so users never need node or solc. Each file records the digest of
the sources it was built from, and a test fails when the two disagree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from client.errors import WorldGymError

__all__ = [
    "ARTIFACT_DIR",
    "CONTRACT_NAMES",
    "Artifact",
    "ArtifactError",
    "all_abis",
    "load_artifact",
    "source_digest",
]

ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts"
CONTRACT_NAMES = ("WorldGymToken", "EnvironmentRegistry", "Staking", "ModelRegistry", "WorldGym")
# Inputs that change the bytecode: the sources, the compiler settings and the pinned versions.
_DIGEST_INPUTS = ("src", "foundry.toml", "package.json")


class ArtifactError(WorldGymError, FileNotFoundError):
    """An artifact is missing or unreadable; rebuild with ``make artifacts``."""


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    source_digest: str


def source_digest(contracts_dir: Path) -> str:
    """sha256 over every input that determines the bytecode, in a fixed order."""
    h = hashlib.sha256()
    files: list[Path] = []
    for item in _DIGEST_INPUTS:
        path = contracts_dir / item
        files += sorted(path.rglob("*.sol")) if path.is_dir() else [path]
    for path in files:
        h.update(path.relative_to(contracts_dir).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


@cache
def load_artifact(name: str) -> Artifact:
    """Load the artifact of contract ``name`` from the package."""
    path = ARTIFACT_DIR / f"{name}.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(
            f"contract artifact {path} is missing or unreadable ({exc}); run `make artifacts`"
        ) from None
    return Artifact(
        name=doc["contractName"],
        abi=doc["abi"],
        bytecode=bytes.fromhex(doc["bytecode"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(doc["deployedBytecode"].removeprefix("0x")),
        source_digest=doc["sourceDigest"],
    )


def all_abis() -> dict[str, list[dict[str, Any]]]:
    """Every shipped contract's ABI by name (used to decode reverts and events)."""
    return {name: load_artifact(name).abi for name in CONTRACT_NAMES}
