"""Example environments shipped with the package (``worldgym/gym/environments/*.yaml``).

Each is a complete ``worldgym.env/1`` spec; ``worldgym env init NAME --from EXAMPLE``
starts a new spec from one of them.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["EXAMPLES_DIR", "example_names", "example_path"]

EXAMPLES_DIR = Path(__file__).parent


def example_names() -> list[str]:
    """Names of the shipped examples, sorted (``arithmetic``, ``code``, ...)."""
    return sorted(path.stem for path in EXAMPLES_DIR.glob("*.yaml"))


def example_path(name: str) -> Path:
    """Path of the shipped example ``name``; raises KeyError if there is none."""
    path = EXAMPLES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise KeyError(f"no example environment {name!r}; examples: {', '.join(example_names())}")
    return path
