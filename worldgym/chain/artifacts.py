"""Compiled contract artifacts (ABI + bytecode) shipped inside the package.

``make artifacts`` compiles ``contracts/src`` with forge and writes one JSON file
per deployable contract to ``worldgym/chain/artifacts/``; the Python package loads them
at run time, so users never need node or solc. Each file records the digest of
the sources it was built from, and a test fails when the two disagree.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from worldgym.core.errors import WorldGymError

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
# What changes the bytecode: the sources, the compiler settings and the pinned compiler/library.
_COMPILER_SETTINGS = (
    "evm_version", "optimizer", "optimizer_runs", "via_ir", "bytecode_hash", "cbor_metadata"
)  # fmt: skip
_PINNED_PACKAGES = ("solc", "@openzeppelin/contracts")


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
    """sha256 over every input that determines the bytecode, in a fixed order.

    That is the Solidity sources, the compiler settings of foundry.toml's default
    profile and the pinned versions of solc and OpenZeppelin in package.json (test
    dependencies and remappings do not change the bytecode and are left out).
    """
    h = hashlib.sha256()
    for path in sorted((contracts_dir / "src").rglob("*.sol")):
        h.update(path.relative_to(contracts_dir).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    profile = tomllib.loads((contracts_dir / "foundry.toml").read_text())["profile"]["default"]
    deps = json.loads((contracts_dir / "package.json").read_text()).get("dependencies", {})
    settings = {
        "compiler": {k: profile.get(k) for k in _COMPILER_SETTINGS},
        "packages": {k: deps.get(k) for k in _PINNED_PACKAGES},
    }
    h.update(json.dumps(settings, sort_keys=True).encode())
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
