"""The full spec fuzz campaign: N generated malformed specs, each refused with a reason in time.

Runs ``tests/gym/test_gym_spec_fuzz.py`` with ``WORLDGYM_SPEC_FUZZ_EXAMPLES=N``
in a process that imported web3 first (as every validator has: py_ecc raises
the recursion limit to 100,000), and prints its counts: specs generated and
refused, crashes (any exception other than ``SpecError``, or the process dying),
the slowest refusal, and how many of each mutation kind.

    python bench/spec_fuzz.py --examples 10000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_RUN = """
import sys, web3  # the validator's recursion limit
import pytest
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "tests/gym/test_gym_spec_fuzz.py"]))
"""


def main() -> None:
    """Run the campaign and print its report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "fuzz.json"
        env = {
            **os.environ,
            "WORLDGYM_SPEC_FUZZ_EXAMPLES": str(args.examples),
            "WORLDGYM_SPEC_FUZZ_REPORT": str(report),
        }
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _RUN], cwd=ROOT, env=env, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0 or not report.exists():
            sys.exit(f"the campaign failed (exit {done.returncode}): see the pytest output above")
        data = json.loads(report.read_text())
    data["wall_s"] = round(seconds, 1)
    print(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
