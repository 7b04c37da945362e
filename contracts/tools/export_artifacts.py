"""Copy forge's build output for the deployable contracts into worldgym/chain/artifacts/.

Run through ``make artifacts`` (which builds first). Writes stable, sorted JSON
with the digest of the sources, so a stale artifact is caught by the tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from worldgym.chain.artifacts import ARTIFACT_DIR, CONTRACT_NAMES, source_digest  # noqa: E402


def main() -> None:
    """Export every contract in CONTRACT_NAMES."""
    contracts = ROOT / "contracts"
    digest = source_digest(contracts)
    ARTIFACT_DIR.mkdir(parents=True, exist_ok=True)
    for name in CONTRACT_NAMES:
        out = json.loads((contracts / "out" / f"{name}.sol" / f"{name}.json").read_text())
        doc = {
            "contractName": name,
            "sourceDigest": digest,
            "abi": out["abi"],
            "bytecode": out["bytecode"]["object"],
            "deployedBytecode": out["deployedBytecode"]["object"],
        }
        (ARTIFACT_DIR / f"{name}.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        size = len(doc["deployedBytecode"]) // 2 - 1
        print(f"{name}: {size} bytes deployed (limit 24576)")


if __name__ == "__main__":
    main()
