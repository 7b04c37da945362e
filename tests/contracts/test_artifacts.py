"""The tracked ABI + bytecode artifacts must match the Solidity sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worldgym.chain.artifacts import CONTRACT_NAMES, load_artifact, source_digest

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_artifact_digest_matches_sources(name: str) -> None:
    artifact = load_artifact(name)
    assert artifact.source_digest == source_digest(CONTRACTS), (
        f"worldgym/chain/artifacts/{name}.json is stale against contracts/src: run `make artifacts`"
    )
    assert artifact.bytecode
    assert artifact.deployed_bytecode
    assert any(e.get("type") == "error" for e in artifact.abi), "custom errors missing from the ABI"


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_artifact_bytecode_matches_fresh_build(name: str) -> None:
    built = CONTRACTS / "out" / f"{name}.sol" / f"{name}.json"
    if not built.exists():
        pytest.skip("no forge build output (make test builds it first)")
    out = json.loads(built.read_text())
    artifact = load_artifact(name)
    assert artifact.bytecode.hex() == out["bytecode"]["object"].removeprefix("0x"), (
        f"{name}: forge builds other bytecode than worldgym/chain/artifacts: run `make artifacts`"
    )
    assert artifact.abi == out["abi"]


def test_source_digest_sees_every_change(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "A.sol").write_text("contract A {}")
    (tmp_path / "foundry.toml").write_text("[profile.default]\noptimizer_runs = 200\n")
    (tmp_path / "package.json").write_text('{"dependencies": {"solc": "0.8.28"}}')
    before = source_digest(tmp_path)
    (tmp_path / "src" / "A.sol").write_text("contract A { }")
    after_source = source_digest(tmp_path)
    (tmp_path / "foundry.toml").write_text("[profile.default]\noptimizer_runs = 201\n")
    after_settings = source_digest(tmp_path)
    (tmp_path / "package.json").write_text('{"dependencies": {"solc": "0.8.29"}}')
    after_compiler = source_digest(tmp_path)
    assert len({before, after_source, after_settings, after_compiler}) == 4
    # Test-only dependencies do not change the bytecode, so they do not change the digest.
    (tmp_path / "package.json").write_text(
        '{"dependencies": {"solc": "0.8.29"}, "devDependencies": {"forge-std": "1"}}'
    )
    assert source_digest(tmp_path) == after_compiler
