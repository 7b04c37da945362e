"""The wheel installs one import name, ``worldgym``, and lives beside OpenAI's ``gym``.

The wheel is built from this checkout (no network: the build runs in this
environment) and installed with ``pip --target`` next to a package named
``gym``; a fresh interpreter then imports both and checks each is the right one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

_GYM = '''"""A stand-in for OpenAI Gym: only its import name matters here."""
IS_OPENAI_GYM = True


def make(name):
    return f"gym env {name}"
'''


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout's tracked files, built in a copy (a build leaves a
    ``build/`` folder behind, whose stale files a later build would package)."""
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "pyproject.toml", "README.md", "worldgym"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, tracked):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (built,) = out.glob("worldgym-*.whl")
    return built


def test_the_wheel_holds_only_the_worldgym_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"worldgym", next(t for t in tops if t.endswith(".dist-info"))}
    for data in (
        "worldgym/py.typed",
        "worldgym/chain/artifacts/WorldGym.json",
        "worldgym/gym/environments/sums.yaml",
        "worldgym/ledger/dashboard/static/index.html",
    ):
        assert data in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "worldgym = worldgym.cli.app:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_it_installs_beside_a_package_named_gym(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (target / "gym").mkdir()
    (target / "gym" / "__init__.py").write_text(_GYM)
    program = (
        "import gym, worldgym, worldgym.gym, worldgym.cli.app\n"
        "assert gym.IS_OPENAI_GYM and gym.make('CartPole') == 'gym env CartPole'\n"
        f"assert worldgym.__file__.startswith({str(target)!r}), worldgym.__file__\n"
        "spec = worldgym.gym.load_spec(worldgym.gym.environments.example_path('sums'))\n"
        "print(spec.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], check=False, cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "sums"
